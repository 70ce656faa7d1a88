/**
 * A docker-archive (`docker save`, `skopeo copy … docker-archive:`) as an image source: its
 * manifest.json names a config file and layer tars per image, and carries no blob digests. The
 * config's digest is computed from its bytes; a plain layer's digest is the config's diff ID for
 * it (checked while the layer streams, like every blob), a compressed layer's is computed from
 * its bytes. From those a Docker schema 2 manifest is synthesized, in the shape and field order
 * skopeo synthesizes (same config and layer descriptors), so the rest of the tool sees one shape.
 * One difference on purpose: skopeo labels every layer `tar.gzip`, plain ones too; the media type
 * here says what the bytes are, because unpack holds a layer's magic bytes to its media type.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { KairosImgError, usageError } from '../../errors.js';
import { digestMismatch, digestOf, isDigest, MediaType, type Descriptor, type ImageManifest, type Platform } from '../../oci/index.js';
import { formatReference, parseReference, type Reference } from '../../reference/reference.js';
import { detectFormat } from '../../unpack/index.js';
import type { FileView } from './files.js';
import { checkedBytes, verifiedBlob, type ImageSource, type SourceKind } from './source.js';

const JSON_CAP = 16 * 1024 * 1024;
const PLAIN_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';
const ZSTD_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.zstd';

export interface ArchiveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** manifest.json, checked (pure). */
export function parseArchiveManifest(raw: Buffer, where: string): ArchiveEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new KairosImgError('ARCHIVE_CORRUPT', `manifest.json of ${where} is not valid JSON`);
  }
  const ok = Array.isArray(doc) && doc.every((e: unknown) => {
    const x = e as Partial<Record<keyof ArchiveEntry, unknown>> | null;
    return typeof x === 'object' && x !== null && typeof x.Config === 'string' && Array.isArray(x.Layers) && x.Layers.every((l) => typeof l === 'string') &&
      (x.RepoTags === undefined || x.RepoTags === null || (Array.isArray(x.RepoTags) && x.RepoTags.every((t) => typeof t === 'string')));
  });
  if (!ok) throw new KairosImgError('ARCHIVE_CORRUPT', `manifest.json of ${where} is not a docker-archive manifest (a list of {Config, RepoTags, Layers})`);
  return (doc as Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>).map((e) => ({ Config: e.Config, RepoTags: e.RepoTags ?? [], Layers: e.Layers }));
}

function sameImageName(a: string, b: Reference): boolean {
  try {
    const r = parseReference(a);
    return formatReference({ ...r, tag: r.tag ?? (r.digest === undefined ? 'latest' : undefined) }) === formatReference(b);
  } catch {
    return false;
  }
}

function listEntries(entries: readonly ArchiveEntry[]): string {
  return entries.map((e, i) => `@${i}${e.RepoTags.length > 0 ? ` (${e.RepoTags.join(', ')})` : ' (no name)'}`).join(', ');
}

/** The image `name` or `index` selects (pure); the only one when neither is given. */
export function selectArchiveEntry(entries: readonly ArchiveEntry[], sel: { name?: string | undefined; index?: number | undefined }, label: string): { entry: ArchiveEntry; name: Reference | undefined } {
  if (entries.length === 0) throw usageError('IMAGE_NOT_IN_SOURCE', `${label} holds no image (manifest.json is empty)`);
  const named = (e: ArchiveEntry): Reference | undefined => {
    const only = e.RepoTags.length === 1 ? e.RepoTags[0] : undefined;
    try {
      return only === undefined ? undefined : parseReference(only);
    } catch {
      return undefined;
    }
  };
  if (sel.index !== undefined) {
    const entry = entries[sel.index];
    if (entry === undefined) throw usageError('IMAGE_NOT_IN_SOURCE', `${label} has no image @${sel.index}; it has ${listEntries(entries)}`, 'images are numbered from @0');
    return { entry, name: named(entry) };
  }
  if (sel.name !== undefined) {
    let want: Reference;
    try {
      want = parseReference(sel.name);
    } catch (e) {
      throw usageError('BAD_SOURCE', `${label}: "${sel.name}" is not an image reference (${(e as Error).message})`, 'name the image as docker save did, e.g. quay.io/kairos/core-opensuse:v1.4.0, or pick it by number (:@0)');
    }
    if (want.tag === undefined && want.digest === undefined) want = { ...want, tag: 'latest' };
    const entry = entries.find((e) => e.RepoTags.some((t) => sameImageName(t, want)));
    if (entry === undefined) {
      throw usageError('IMAGE_NOT_IN_SOURCE', `${label} has no image named ${sel.name}; it has ${listEntries(entries)}`, 'name one of those, or pick it by number (:@0)');
    }
    return { entry, name: want };
  }
  if (entries.length > 1) {
    throw usageError('AMBIGUOUS_SOURCE', `${label} holds ${entries.length} images: ${listEntries(entries)}`, `name one: ${label}:NAME, or pick it by number: ${label}:@0`);
  }
  const entry = entries[0] as ArchiveEntry;
  return { entry, name: named(entry) };
}

/** The digest a member name states (`<hex>.json`, `blobs/sha256/<hex>`), if it states one. */
function digestInName(name: string): string | undefined {
  const m = /(?:^|\/)(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.json|\.tar)?$/.exec(name);
  return m === null ? undefined : `sha256:${m[1] as string}`;
}

interface ConfigFacts {
  platform: Platform | undefined;
  diffIds: string[];
}

function configFacts(raw: Buffer, where: string): ConfigFacts {
  let doc: { os?: unknown; architecture?: unknown; variant?: unknown; rootfs?: { diff_ids?: unknown } };
  try {
    doc = JSON.parse(raw.toString('utf8')) as typeof doc;
  } catch {
    throw new KairosImgError('ARCHIVE_CORRUPT', `the image config in ${where} is not valid JSON`);
  }
  const diffIds = Array.isArray(doc.rootfs?.diff_ids) ? doc.rootfs.diff_ids.filter((d): d is string => typeof d === 'string') : [];
  const platform = typeof doc.architecture === 'string' && typeof doc.os === 'string'
    ? { os: doc.os, architecture: doc.architecture, ...(typeof doc.variant === 'string' ? { variant: doc.variant } : {}) }
    : undefined;
  return { platform, diffIds };
}

async function hashMember(view: FileView, name: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(view.open(name), new Writable({ write(chunk: Buffer, _e, cb) { hash.update(chunk); cb(); } }));
  return `sha256:${hash.digest('hex')}`;
}

/** The schema 2 manifest of an archive image, in Go's field order (as skopeo writes it). */
export function synthesizeManifest(config: Descriptor, layers: readonly Descriptor[]): Buffer {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
  };
  return Buffer.from(JSON.stringify(manifest));
}

export interface DockerArchiveSourceOptions {
  view: FileView;
  kind: Extract<SourceKind, 'docker-archive' | 'docker-daemon'>;
  label: string;
  name?: string | undefined;
  index?: number | undefined;
  /** The archive file, for hints. */
  file?: string | undefined;
}

export async function dockerArchiveSource(opts: DockerArchiveSourceOptions): Promise<ImageSource> {
  const { view, label } = opts;
  if ((await view.size('manifest.json')) === undefined) {
    const names = await view.names();
    const layout = names.includes('index.json') && names.includes('oci-layout');
    throw usageError('NOT_AN_ARCHIVE', `${label} is not a docker-archive: it has no manifest.json (it has ${names.slice(0, 12).join(', ') || 'no files'})`,
      layout ? `it is an OCI layout in a tar: read it as oci-archive:${opts.file ?? 'FILE'}` : 'docker save writes manifest.json; name a file docker save or skopeo wrote');
  }
  const { entry, name } = selectArchiveEntry(parseArchiveManifest(await view.read('manifest.json', JSON_CAP), label), { name: opts.name, index: opts.index }, label);

  if ((await view.size(entry.Config)) === undefined) throw new KairosImgError('ARCHIVE_CORRUPT', `${label}: manifest.json names the config ${entry.Config}, which the archive lacks`);
  const configRaw = await view.read(entry.Config, JSON_CAP);
  const config: Descriptor = { mediaType: MediaType.dockerConfig, digest: digestOf(configRaw, 'sha256'), size: configRaw.length };
  const stated = digestInName(entry.Config);
  if (stated !== undefined && stated !== config.digest) throw digestMismatch(`the config ${entry.Config} of ${label}`, stated, config.digest);
  const facts = configFacts(configRaw, label);

  const members = new Map<string, string>([[config.digest, entry.Config]]);
  const layers: Descriptor[] = [];
  for (const [i, member] of entry.Layers.entries()) {
    const size = await view.size(member);
    if (size === undefined) throw new KairosImgError('ARCHIVE_CORRUPT', `${label}: manifest.json names the layer ${member}, which the archive lacks`);
    const format = detectFormat(await view.head(member, 6));
    const diffId = facts.diffIds[i];
    const mediaType = format === 'gzip' ? MediaType.dockerLayerGzip : format === 'zstd' ? ZSTD_LAYER : PLAIN_LAYER;
    // A plain layer IS its diff ID's content: the digest is checked as it streams, not read twice here.
    const digest = format === 'none' && diffId !== undefined && isDigest(diffId) && diffId.startsWith('sha256:') ? diffId : await hashMember(view, member);
    members.set(digest, member);
    layers.push({ mediaType, digest, size });
  }
  const raw = synthesizeManifest(config, layers);
  const descriptor: Descriptor = { mediaType: MediaType.dockerManifest, digest: digestOf(raw, 'sha256'), size: raw.length };
  const manifest = JSON.parse(raw.toString('utf8')) as ImageManifest;

  const source: ImageSource = {
    kind: opts.kind,
    label,
    reference: name,
    root: async () => ({ descriptor, raw }),
    manifestBytes: async (d) => checkedBytes(d, raw, `manifest ${d.digest} of ${label}`),
    manifest: async () => ({ descriptor: { ...descriptor, ...(facts.platform ? { platform: facts.platform } : {}) }, manifest, raw }),
    blob: (d, o) => verifiedBlob(() => {
      const member = members.get(d.digest);
      if (member === undefined) throw new KairosImgError('BLOB_UNKNOWN', `${label} has no blob ${d.digest}`, { details: { digest: d.digest } });
      return view.open(member);
    }, d, `${members.get(d.digest) ?? d.digest} of ${label}`, o),
    close: () => view.close(),
  };
  return source;
}
