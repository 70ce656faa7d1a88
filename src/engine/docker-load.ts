/**
 * `pull --to docker --from-cache`: the cached image (index.json entry → manifest → config and
 * layers) streamed to the engine's `docker load` endpoint as a docker-archive built on the fly.
 * No registry traffic. The engine's image ID is the config digest, the same as a registry pull's.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { interrupted, isAbortError, KairosImgError } from '../errors.js';
import { responseLines } from './docker-stream.js';
import { formatReference, type Reference } from '../reference/reference.js';
import { samePlatform, type ImageIndex, type ImageManifest, type Platform } from '../oci/index.js';
import type { Store } from '../store/layout.js';
import { assertCached, dockerArchiveStream } from './docker-archive.js';
import { engineImageName, inspectImage } from './docker-pull.js';

export interface LoadResult {
  /** Image IDs and names the engine reported as loaded. */
  loaded: string[];
}

/** The engine's load response (JSON lines `{stream}` or `{error, errorDetail}`) → what loaded, or its error. */
export function parseLoadResponse(lines: string[]): { loaded: string[]; error?: string | undefined } {
  const loaded: string[] = [];
  let error: string | undefined;
  for (const line of lines) {
    const text = line.trim();
    if (text === '') continue;
    let doc: { stream?: unknown; error?: unknown; errorDetail?: { message?: unknown } };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      // The engine answers plain text when the tarball itself is unreadable.
      error ??= text;
      continue;
    }
    const msg = typeof doc.errorDetail?.message === 'string' ? doc.errorDetail.message : typeof doc.error === 'string' ? doc.error : undefined;
    if (msg !== undefined) error ??= msg;
    const m = typeof doc.stream === 'string' ? /Loaded image(?: ID)?:\s*(\S+)/.exec(doc.stream) : null;
    if (m !== null) loaded.push(m[1] as string);
  }
  return { loaded, error };
}

/** Sends an image tarball to the engine and reads its answer; a partial tarball loads nothing. */
export async function loadIntoEngine(opts: { docker: Docker; archive: Readable; signal?: AbortSignal | undefined }): Promise<LoadResult> {
  const { docker, archive } = opts;
  // One controller for the request: the archive failing must end the request, not leave it hanging.
  const ac = new AbortController();
  const onAbort = (): void => ac.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let archiveError: unknown;
  archive.on('error', (e) => {
    archiveError = e;
    ac.abort();
  });
  const fail = (e: unknown): never => {
    if (opts.signal?.aborted === true) throw interrupted();
    if (archiveError !== undefined) throw archiveError;
    if (isAbortError(e)) throw interrupted();
    throw new KairosImgError('ENGINE_LOAD_FAILED', `the Docker engine did not load the image: ${messageOf(e)}`, { cause: e });
  };
  try {
    let response: Readable;
    try {
      response = (await docker.loadImage(archive, { quiet: true, abortSignal: ac.signal })) as unknown as Readable;
    } catch (e) {
      return fail(e);
    }
    const lines: string[] = [];
    try {
      for await (const line of responseLines(response)) lines.push(line);
    } catch (e) {
      return fail(e);
    } finally {
      response.destroy();
    }
    if (archiveError !== undefined) throw archiveError;
    const parsed = parseLoadResponse(lines);
    if (parsed.error !== undefined) throw new KairosImgError('ENGINE_LOAD_FAILED', `the Docker engine refused the image: ${parsed.error}`);
    return { loaded: parsed.loaded };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (!archive.destroyed) archive.destroy();
  }
}

function messageOf(e: unknown): string {
  const json = (e as { json?: unknown }).json;
  if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') return (json as { message: string }).message;
  return e instanceof Error ? e.message : String(e);
}

export interface CachedImage {
  manifestDigest: string;
  manifest: ImageManifest;
  platform?: Platform | undefined;
}

function notCached(name: string, platform: Platform): KairosImgError {
  return new KairosImgError('NOT_CACHED', `${name} (${platform.os}/${platform.architecture}) is not in the cache`, {
    hint: `pull it into the cache first: kairos-img pull ${name} --arch ${platform.architecture}, or leave out --from-cache`,
  });
}

/** The cache's image for a reference and platform: by its index.json entry, or by digest. */
export async function findCachedImage(store: Store, ref: Reference, platform: Platform): Promise<CachedImage> {
  const name = formatReference(ref);
  let desc = await store.resolveTag(name, platform);
  if (desc === undefined && ref.digest !== undefined && (await store.has(ref.digest))) {
    desc = { mediaType: '', digest: ref.digest, size: 0 };
  }
  if (desc === undefined) throw notCached(name, platform);
  let doc = await store.readJson<ImageManifest | ImageIndex>(desc.digest);
  let digest = desc.digest;
  if ('manifests' in doc && Array.isArray(doc.manifests)) {
    const pick = doc.manifests.find((d) => samePlatform(d.platform, platform)) ??
      doc.manifests.find((d) => d.platform?.os === platform.os && d.platform.architecture === platform.architecture);
    if (pick === undefined || !(await store.has(pick.digest))) throw notCached(name, platform);
    digest = pick.digest;
    doc = await store.readJson<ImageManifest>(pick.digest);
  }
  const manifest = doc as ImageManifest;
  if (manifest.config === undefined || !Array.isArray(manifest.layers)) {
    throw new KairosImgError('CACHE_CORRUPT', `cached manifest ${digest} of ${name} is not an image manifest`, { hint: `pull ${name} again` });
  }
  // A platform-less index entry (a single-manifest tag) is checked against its config.
  if (desc.platform === undefined) {
    const config = await store.readJson<{ architecture?: unknown; os?: unknown }>(manifest.config.digest).catch(() => undefined);
    if (config !== undefined && typeof config.architecture === 'string' && config.architecture !== platform.architecture) {
      throw new KairosImgError('CACHE_PLATFORM_MISMATCH', `the cached ${name} is ${String(config.os ?? 'linux')}/${config.architecture}, not ${platform.os}/${platform.architecture}`, {
        hint: `add --arch ${config.architecture}`,
      });
    }
  }
  return { manifestDigest: digest, manifest, platform: desc.platform };
}

export interface LoadCachedImageOptions {
  docker: Docker;
  store: Store;
  reference: Reference;
  platform: Platform;
  signal?: AbortSignal | undefined;
  /** Blob bytes sent so far and the total (the sum of the cached blob sizes). */
  onBytes?: ((bytes: number, total: number) => void) | undefined;
  /** The cached image, when the caller already looked it up. */
  cached?: CachedImage | undefined;
}

export interface LoadCachedImageResult {
  name?: string | undefined;
  imageId: string;
  repoTags: string[];
  repoDigests: string[];
  manifestDigest: string;
  configDigest: string;
  layers: number;
  size: number;
}

export async function loadCachedImage(opts: LoadCachedImageOptions): Promise<LoadCachedImageResult> {
  const { store, reference, signal } = opts;
  const name = formatReference(reference);
  const cached = opts.cached ?? (await findCachedImage(store, reference, opts.platform));
  await assertCached(store, cached.manifest, name);
  const total = cached.manifest.config.size + [...new Map(cached.manifest.layers.map((l) => [l.digest, l.size])).values()].reduce((a, b) => a + b, 0);
  // A digest-only reference gets no name in the engine (docker load cannot set RepoDigests).
  const img = reference.tag === undefined ? undefined : engineImageName({ ...reference, digest: undefined });
  const archive = dockerArchiveStream({
    store, manifest: cached.manifest, repoTags: img === undefined ? [] : [img.name], signal,
    onBytes: opts.onBytes === undefined ? undefined : (b) => opts.onBytes?.(b, total),
  });
  await loadIntoEngine({ docker: opts.docker, archive, signal });
  const configDigest = cached.manifest.config.digest;
  const facts = await inspectImage(opts.docker, img?.name ?? configDigest, signal);
  if (facts.imageId !== configDigest) {
    throw new KairosImgError('ENGINE_IMAGE_ID_MISMATCH', `the engine loaded ${name} as ${facts.imageId}, expected ${configDigest} (the config digest)`, {
      });
  }
  return {
    name: img?.name, imageId: facts.imageId, repoTags: facts.repoTags, repoDigests: facts.repoDigests,
    manifestDigest: cached.manifestDigest, configDigest, layers: cached.manifest.layers.length, size: total,
  };
}
