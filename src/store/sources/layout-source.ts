/**
 * An OCI image layout (image-spec `image-layout.md`) as an image source, over a directory
 * (`oci:DIR[:NAME]`) or the members of a tar (`oci-archive:FILE[:NAME]`). The name selects the
 * index.json entries whose `org.opencontainers.image.ref.name` is NAME, as skopeo does; several
 * entries of one name that differ by platform (kairos-img's own cache writes those) are chosen
 * between by platform. Without a name the layout must hold exactly one image.
 */
import { KairosImgError, usageError } from '../../errors.js';
import {
  defaultPlatform, formatPlatform, isDescriptor, kindOfMediaType, parseDigest, samePlatform, selectPlatform,
  type Descriptor, type ImageIndex, type Platform,
} from '../../oci/index.js';
import { parseReference, type Reference } from '../../reference/reference.js';
import { MANIFEST_CAP } from '../../registry/index.js';
import { REF_NAME } from '../layout.js';
import type { FileView } from './files.js';
import { checkedBytes, manifestFromRoot, verifiedBlob, type ImageSource, type SourceKind } from './source.js';

const INDEX_CAP = 16 * 1024 * 1024;

export function blobName(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

/** index.json of a layout, checked to be an index of descriptors. */
export async function readLayoutIndex(view: FileView, label: string): Promise<ImageIndex> {
  const hasLayout = (await view.size('oci-layout')) !== undefined;
  const indexSize = await view.size('index.json');
  if (!hasLayout || indexSize === undefined) {
    const names = (await view.names()).slice(0, 12);
    throw usageError('NOT_A_LAYOUT', `${label} is not an OCI image layout: it has no ${hasLayout ? 'index.json' : 'oci-layout'} (it has ${names.length > 0 ? names.join(', ') : 'nothing'})`,
      'an OCI layout has oci-layout, index.json and blobs/; docker save output is docker-archive:FILE');
  }
  let doc: unknown;
  try {
    doc = JSON.parse((await view.read('index.json', INDEX_CAP)).toString('utf8'));
  } catch {
    throw new KairosImgError('ARCHIVE_CORRUPT', `index.json of ${label} is not valid JSON`);
  }
  const manifests = (doc as { manifests?: unknown }).manifests;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(manifests) || !manifests.every(isDescriptor)) {
    throw new KairosImgError('ARCHIVE_CORRUPT', `index.json of ${label} is not an OCI index (manifests must be a list of descriptors)`);
  }
  return doc as ImageIndex;
}

function describeEntries(entries: readonly Descriptor[]): string {
  const names = entries.map((d) => d.annotations?.[REF_NAME] ?? `(unnamed ${d.digest.slice(0, 19)}…)`);
  return [...new Set(names)].join(', ') || 'no images';
}

/** The entries `name` selects (pure): by ref name, or the only image when no name is given. */
export function selectLayoutEntries(index: ImageIndex, name: string | undefined, label: string): Descriptor[] {
  const images = index.manifests.filter((d) => kindOfMediaType(d.mediaType) !== undefined);
  if (name === undefined) {
    const names = new Set(images.map((d) => d.annotations?.[REF_NAME] ?? d.digest));
    if (names.size === 1) return images;
    if (images.length === 0) throw usageError('IMAGE_NOT_IN_SOURCE', `${label} holds no image (index.json lists no manifests)`);
    throw usageError('AMBIGUOUS_SOURCE', `${label} holds ${names.size} images: ${describeEntries(images)}`, `name one after the directory or file, e.g. ${label}:${images[0]?.annotations?.[REF_NAME] ?? 'NAME'}`);
  }
  const named = images.filter((d) => d.annotations?.[REF_NAME] === name);
  if (named.length === 0) {
    throw usageError('IMAGE_NOT_IN_SOURCE', `${label} has no image named ${name}; it has ${describeEntries(images)}`, 'name one of those (the org.opencontainers.image.ref.name of index.json)');
  }
  return named;
}

/** A full reference when the name is one (mirror layouts name images `kairos/ubuntu:T`; `v1` alone is only a tag). */
function carriedReference(name: string | undefined): Reference | undefined {
  if (name === undefined || !name.includes('/')) return undefined;
  try {
    return parseReference(name);
  } catch {
    return undefined;
  }
}

export interface LayoutSourceOptions {
  view: FileView;
  kind: Extract<SourceKind, 'oci' | 'oci-archive'>;
  label: string;
  name?: string | undefined;
}

export async function layoutSource(opts: LayoutSourceOptions): Promise<ImageSource> {
  const { view, label } = opts;
  const index = await readLayoutIndex(view, label);
  const entries = selectLayoutEntries(index, opts.name, label);

  const readDocument = async (d: Descriptor): Promise<Buffer> => {
    const name = blobName(d.digest);
    const size = await view.size(name);
    if (size === undefined) throw new KairosImgError('BLOB_UNKNOWN', `${label} lacks the blob ${d.digest} its index names`, { details: { digest: d.digest } });
    if (d.size > MANIFEST_CAP) throw new KairosImgError('MANIFEST_TOO_LARGE', `the manifest ${d.digest} of ${label} is ${d.size} bytes, over ${MANIFEST_CAP}`);
    return checkedBytes(d, await view.read(name, MANIFEST_CAP), `manifest ${d.digest} of ${label}`);
  };

  /** One entry, or the platform's among entries of the same name (the cache's per-platform form). */
  const pick = (platform: Platform | undefined): Descriptor => {
    const first = entries[0] as Descriptor;
    if (entries.length === 1) return first;
    if (entries.every((d) => d.platform !== undefined)) {
      const want = platform ?? defaultPlatform();
      const exact = entries.find((d) => samePlatform(d.platform, want));
      return exact ?? selectPlatform({ schemaVersion: 2, manifests: entries }, want, label);
    }
    throw usageError('AMBIGUOUS_SOURCE', `${label} names ${entries.length} different images ${opts.name ?? ''}`.trim() + ` (${entries.map((d) => d.platform ? formatPlatform(d.platform) : d.digest.slice(0, 19)).join(', ')})`,
      'name a single image, or rewrite index.json so each name is used once');
  };

  const source: ImageSource = {
    kind: opts.kind,
    label,
    reference: carriedReference(opts.name ?? entries[0]?.annotations?.[REF_NAME]),
    async root() {
      const d = pick(undefined);
      const raw = await readDocument(d);
      return { descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size }, raw };
    },
    manifestBytes: (d) => readDocument(d),
    async manifest(o = {}) {
      const entry = pick(o.platform);
      const r = await manifestFromRoot({ descriptor: { mediaType: entry.mediaType, digest: entry.digest, size: entry.size }, raw: await readDocument(entry) }, source, o);
      // The platform an index.json entry records is the image's when the manifest itself says none.
      if (r.index === undefined && r.descriptor.platform === undefined && entry.platform !== undefined) {
        return { ...r, descriptor: { ...r.descriptor, platform: entry.platform } };
      }
      return r;
    },
    blob: (d, o) => verifiedBlob(() => view.open(blobName(d.digest)), d, `blob ${d.digest} of ${label}`, o),
    close: () => view.close(),
  };
  return source;
}
