// Pushes blobs and manifests byte-for-byte to the anonymous test registry (monolithic uploads):
// signature tags, referrer manifests and referrers-tag indexes exactly as cosign writes them.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tarOf } from '../../scripts/fixtures/image-builder.mjs';

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: { os: string; architecture: string };
}

export function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export async function pushBlob(registry: string, repo: string, data: Buffer, mediaType: string, annotations?: Record<string, string>): Promise<Desc> {
  const digest = digestOf(data);
  const start = await fetch(`http://${registry}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`upload start ${start.status}`);
  const loc = new URL(start.headers.get('location') ?? '', `http://${registry}`);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob PUT ${put.status}: ${await put.text()}`);
  return { mediaType, digest, size: data.length, ...(annotations === undefined ? {} : { annotations }) };
}

export async function pushManifest(registry: string, repo: string, reference: string, doc: unknown, mediaType: string): Promise<Desc & { raw: Buffer }> {
  const raw = Buffer.from(JSON.stringify(doc));
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${reference}`, { method: 'PUT', body: raw, headers: { 'content-type': mediaType } });
  if (res.status !== 201) throw new Error(`manifest PUT ${repo}:${reference} ${res.status}: ${await res.text()}`);
  return { mediaType, digest: digestOf(raw), size: raw.length, raw };
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const EMPTY = Buffer.from('{}');

/** A small one-layer image (a file `/etc/marker` with `marker`, or the given files), pushed as `repo:tag`. */
export async function pushImage(registry: string, repo: string, tag: string, marker: string, files?: Array<{ path: string; content: string | Buffer }>): Promise<Desc & { raw: Buffer; layer: Desc }> {
  const entries = files === undefined
    ? [{ path: 'etc/', type: 'dir' as const }, { path: 'etc/marker', type: 'file' as const, content: marker }]
    : files.map((f) => ({ path: f.path, type: 'file' as const, content: f.content }));
  const tar = await tarOf(entries);
  const layerBytes = gzipSync(tar);
  const layer = await pushBlob(registry, repo, layerBytes, 'application/vnd.oci.image.layer.v1.tar+gzip');
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(tar)] }, config: {} }));
  const cfg = await pushBlob(registry, repo, config, 'application/vnd.oci.image.config.v1+json');
  const m = await pushManifest(registry, repo, tag, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: cfg, layers: [layer] }, OCI_MANIFEST);
  return { ...m, layer };
}

/** cosign's legacy `.sig` manifest (go-containerregistry's empty image + simple-signing layers). */
export async function pushSigTag(registry: string, repo: string, subject: string, layers: Array<{ payload: Buffer; annotations: Record<string, string> }>): Promise<Desc> {
  return pushAttachmentTag(registry, repo, subject, 'sig', layers.map((l) => ({ ...l, mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json' })));
}

/** A legacy cosign attachment tag `sha256-<hex>.sig|.att|.sbom` with the given layers. */
export async function pushAttachmentTag(registry: string, repo: string, subject: string, suffix: 'sig' | 'att' | 'sbom', layers: Array<{ payload: Buffer; mediaType: string; annotations?: Record<string, string> }>): Promise<Desc> {
  const descs: Desc[] = [];
  for (const l of layers) descs.push(await pushBlob(registry, repo, l.payload, l.mediaType, l.annotations));
  const config = Buffer.from(JSON.stringify({ architecture: '', created: '0001-01-01T00:00:00Z', history: [{ created: '0001-01-01T00:00:00Z' }], os: '', rootfs: { type: 'layers', diff_ids: descs.map((d) => d.digest) }, config: {} }));
  const cfg = await pushBlob(registry, repo, config, 'application/vnd.oci.image.config.v1+json');
  return pushManifest(registry, repo, `sha256-${subject.slice(7)}.${suffix}`, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: cfg, layers: descs }, OCI_MANIFEST);
}

/**
 * An OCI 1.1 referrer (artifactType, empty config, the given layers, subject) and its entry in the
 * referrers tag schema index `sha256-<hex>` (read-modify-written, as pushers do without the API).
 */
export async function pushReferrer(registry: string, repo: string, subject: Desc, opts: { artifactType: string; layers: Array<{ data: Buffer; mediaType: string; annotations?: Record<string, string> }>; annotations?: Record<string, string> }): Promise<Desc> {
  const empty = await pushBlob(registry, repo, EMPTY, 'application/vnd.oci.empty.v1+json');
  const layers: Desc[] = [];
  for (const l of opts.layers) layers.push(await pushBlob(registry, repo, l.data, l.mediaType, l.annotations));
  const doc = { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: opts.artifactType, config: empty, layers, subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size }, ...(opts.annotations === undefined ? {} : { annotations: opts.annotations }) };
  const raw = Buffer.from(JSON.stringify(doc));
  const pushed = await pushManifest(registry, repo, digestOf(raw), doc, OCI_MANIFEST);
  const tag = `sha256-${subject.digest.slice(7)}`;
  const existing = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, { headers: { accept: OCI_INDEX } });
  const index = existing.status === 200 ? (await existing.json() as { manifests: Desc[] }) : { manifests: [] as Desc[] };
  index.manifests.push({ mediaType: OCI_MANIFEST, digest: pushed.digest, size: pushed.size, artifactType: opts.artifactType, ...(opts.annotations === undefined ? {} : { annotations: opts.annotations }) });
  await pushManifest(registry, repo, tag, { schemaVersion: 2, mediaType: OCI_INDEX, manifests: index.manifests }, OCI_INDEX);
  return pushed;
}
