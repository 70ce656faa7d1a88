/**
 * Writes an image from the cache as a standalone OCI layout at DIR (`pull --to oci:DIR`), in the
 * form `skopeo inspect oci:DIR:TAG` and `umoci unpack --image DIR:TAG` accept: OCI media types
 * (Docker manifests converted), and `org.opencontainers.image.ref.name` = the bare tag in
 * index.json. Blobs are hardlinked from the cache when on the same filesystem, else copied.
 * A new DIR is built in a temporary sibling and renamed into place; an existing OCI layout is
 * merged into (blobs by temp+rename, index.json under its lock), so a failure never leaves
 * a half-written image visible.
 */
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, readdir, rename, rm, stat, access } from 'node:fs/promises';
import path from 'node:path';
import { KairosImgError } from '../errors.js';
import { MediaType, kindOfMediaType, type Descriptor, type ImageManifest } from '../oci/index.js';
import { toOciManifest } from './convert.js';
import { REF_NAME, TEMP_PREFIX, initLayout, replaceFile, updateIndex, withIndexEntry, type Store } from './layout.js';
import { sweepLeftovers, tempName } from '../temp-names.js';

/** A new layout directory being built next to its final name. */
const LAYOUT_PREFIX = 'kimg-layout';

export interface ExportLayoutOptions {
  store: Store;
  dir: string;
  /** The name in DIR's index.json (the bare tag, for `oci:DIR:<tag>`). */
  refName: string;
  manifestDigest: string;
  /** Convert Docker schema 2 to OCI (default true; umoci needs it). */
  convertToOci?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface ExportLayoutResult {
  dir: string;
  /** Digest of the manifest in DIR (differs from the source when converted). */
  manifestDigest: string;
  mediaType: string;
  converted: boolean;
  linked: number;
  copied: number;
}

export async function exportLayout(opts: ExportLayoutOptions): Promise<ExportLayoutResult> {
  const { store } = opts;
  const dir = path.resolve(opts.dir);
  const raw = await store.readBlob(opts.manifestDigest);
  const source = JSON.parse(raw.toString('utf8')) as ImageManifest & { mediaType?: string };
  const sourceType = source.mediaType ?? MediaType.ociManifest;
  if (kindOfMediaType(sourceType) !== 'manifest' || !Array.isArray(source.layers)) {
    throw new KairosImgError('UNSUPPORTED_MEDIA_TYPE', `${opts.manifestDigest} is not an image manifest (${sourceType})`);
  }
  const convert = (opts.convertToOci ?? true) && sourceType === MediaType.dockerManifest;
  const manifestBytes = convert ? Buffer.from(JSON.stringify(toOciManifest(source))) : raw;
  const manifestDesc: Descriptor = {
    mediaType: convert ? MediaType.ociManifest : sourceType,
    digest: convert ? `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}` : opts.manifestDigest,
    size: manifestBytes.length,
  };
  const blobs = [source.config, ...source.layers];
  for (const b of blobs) {
    if (!(await store.has(b.digest))) {
      throw new KairosImgError('CACHE_INCOMPLETE', `blob ${b.digest} of ${opts.manifestDigest} is not in the cache`, { hint: 'pull the image again' });
    }
  }

  const fresh = !(await exists(dir)) || (await isEmptyDir(dir));
  if (!fresh && !(await exists(path.join(dir, 'oci-layout')))) {
    throw new KairosImgError('OUTPUT_NOT_LAYOUT', `${dir} exists and is not an OCI image layout`, {
      hint: 'choose a new or empty directory, or an existing OCI layout to add the image to',
    });
  }
  if (fresh) await sweepLeftovers(path.dirname(dir), [LAYOUT_PREFIX]);
  const target = fresh ? path.join(path.dirname(dir), tempName(LAYOUT_PREFIX, path.basename(dir))) : dir;
  let linked = 0;
  let copied = 0;
  try {
    await mkdir(path.dirname(target), { recursive: true });
    await initLayout(target);
    for (const b of blobs) {
      const how = await placeBlob(store.blobPath(b.digest), path.join(target, 'blobs', ...b.digest.split(':')));
      if (how === 'linked') linked++;
      if (how === 'copied') copied++;
      opts.signal?.throwIfAborted();
    }
    await writeBlobFile(path.join(target, 'blobs', ...manifestDesc.digest.split(':')), manifestBytes);
    const entry: Descriptor = { ...manifestDesc, annotations: { [REF_NAME]: opts.refName } };
    await updateIndex(target, (idx) => withIndexEntry(idx, entry), opts.signal);
    if (fresh) {
      if (await exists(dir)) await rm(dir, { recursive: true, force: true }); // the empty dir we were given
      await rename(target, dir);
    }
  } catch (err) {
    if (fresh) await rm(target, { recursive: true, force: true });
    throw err;
  }
  return { dir, manifestDigest: manifestDesc.digest, mediaType: manifestDesc.mediaType, converted: convert, linked, copied };
}

async function placeBlob(from: string, to: string): Promise<'linked' | 'copied' | 'present'> {
  if (await exists(to)) return 'present';
  await mkdir(path.dirname(to), { recursive: true });
  const tmp = path.join(path.dirname(to), tempName(TEMP_PREFIX, path.basename(to).slice(0, 16)));
  let how: 'linked' | 'copied' = 'linked';
  try {
    try {
      await link(from, tmp);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw err;
      await copyFile(from, tmp);
      how = 'copied';
    }
    await rename(tmp, to);
    return how;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function writeBlobFile(to: string, bytes: Buffer): Promise<void> {
  if (await exists(to)) return;
  await replaceFile(to, bytes);
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

async function isEmptyDir(p: string): Promise<boolean> {
  try {
    if (!(await stat(p)).isDirectory()) return false;
    return (await readdir(p)).length === 0;
  } catch {
    return false;
  }
}
