/**
 * Daemonless pull: name the image → its manifest → config and layers into the content cache
 * (concurrently, each verified while it streams) → optionally an OCI layout. A plain async function
 * over the registry client and the store, as `crane.Pull` is over `remote` and `layout`.
 */
import path from 'node:path';
import { usageError } from '../errors.js';
import { formatPlatform } from '../oci/index.js';
import { exportLayout, openStore, pullImage, type ExportLayoutResult, type Store } from '../store/index.js';
import type { RegistryClient } from '../registry/index.js';
import { lazyClient, signatureRequirementFor, withImage, type ImageSpec, type OpenedImage, type OperationOptions } from './common.js';
import { emitter, type PullEvent } from './events.js';
import { resolutionFacts, type ResolutionFacts } from './resolve.js';
import type { SignatureReport, SignatureRequirement } from './signature.js';
import { signatureGate } from './signature-gate.js';

/** `docker`: the Docker engine (see engine-pull.ts); `pull()` itself fills the cache and layouts. */
export type PullDestination = { kind: 'cache' } | { kind: 'oci'; dir: string; tag?: string | undefined } | { kind: 'docker' };

export interface PullOptions extends OperationOptions<PullEvent> {
  image: ImageSpec;
  /** The content cache (an OCI layout). */
  cacheDir: string;
  to?: PullDestination | undefined;
  /** Layers fetched at once (default 3). */
  concurrency?: number | undefined;
  /** Verify the image's signature before anything is downloaded or written (exit 3 when none satisfies it). */
  signature?: SignatureRequirement | undefined;
}

export interface PullSummary {
  reference: string;
  digest: string;
  mediaType: string;
  indexDigest?: string | undefined;
  platform: string;
  layers: number;
  size: number;
  fetched: number;
  cached: number;
  cache: string;
  resolution?: ResolutionFacts | undefined;
  layout?: (ExportLayoutResult & { tag: string }) | undefined;
  /** The signature check, when one was required. */
  signature?: SignatureReport | undefined;
}

/** `oci:DIR`, `oci:DIR:TAG` or `docker`; anything else is a usage error naming the accepted forms. */
export function parseDestination(text: string | undefined): PullDestination {
  if (text === undefined || text === 'cache') return { kind: 'cache' };
  if (text === 'docker') return { kind: 'docker' };
  if (text.startsWith('oci:')) {
    const rest = text.slice(4);
    const m = /^(.*[^:]):([\w][\w.-]{0,127})$/.exec(rest);
    const dir = m !== null && !(m[2] ?? '').includes('/') ? (m[1] ?? '') : rest;
    const tag = m !== null && dir !== rest ? m[2] : undefined;
    if (dir === '') throw usageError('BAD_DESTINATION', `--to ${text}: the directory is missing`, 'use --to oci:DIR or --to oci:DIR:TAG');
    return { kind: 'oci', dir: path.resolve(dir), tag };
  }
  throw usageError('BAD_DESTINATION', `unknown destination "${text}"`, 'use --to oci:DIR[:TAG], --to docker, or leave --to out to fill the cache only');
}

/** Pulls an image into the cache (and optionally an OCI layout); returns what was pulled. */
export async function pull(opts: PullOptions): Promise<PullSummary> {
  const emit = emitter(opts.onEvent);
  if (opts.to?.kind === 'docker') {
    throw usageError('BAD_DESTINATION', 'pull() fills the cache or an OCI layout; use pullToEngine() for the Docker engine');
  }
  const client = lazyClient(opts, emit);
  const store = await openStore({ root: opts.cacheDir });
  return withImage({ ...opts, tags: client.tags(), client: client.get, spoolDir: store.root, emit }, (img) => pullFrom(opts, img, store, client.get, emit));
}

async function pullFrom(opts: PullOptions, img: OpenedImage, store: Store, client: () => RegistryClient, emit: (e: PullEvent) => void): Promise<PullSummary> {
  const { signal } = opts;
  const ref = img.reference;
  const fromRegistry = img.source.kind === 'registry';
  const m = await img.source.manifest({ platform: img.platform, signal });
  const layers = m.manifest.layers;
  const size = layers.reduce((a, l) => a + l.size, 0);
  const platform = m.descriptor.platform ?? img.platform;
  emit({
    type: 'manifest', digest: m.descriptor.digest, indexDigest: m.index?.descriptor.digest, platform: formatPlatform(platform),
    layers: layers.length, size, fromCache: false,
  });

  const signature = await signatureGate({ requirement: signatureRequirementFor(img, opts.signature), client: client(), reference: ref, manifest: m, signal, emit });

  emit({ type: 'layers', layers: layers.map((l) => ({ digest: l.digest, size: l.size })) });
  const source = img.source;
  const result = await pullImage({
    // The store hashes what it writes (on a worker for layers); `hash: false` must reach the source,
    // or every layer is hashed twice, once on the main thread.
    client: { getManifest: (_r, o) => source.manifest(o), fetchBlob: (_r, d, o = {}) => source.blob(d, { signal: o.signal, onProgress: o.onProgress, verify: o.hash, pooled: o.pooled }) },
    store, ref, refName: fromRegistry ? undefined : img.name, manifest: m, platform: img.platform, concurrency: opts.concurrency, signal,
    onLayerProgress: (digest, bytes, total) => emit({ type: 'transfer', digest, bytes, total }),
    onEvent: (e) => {
      if (e.type === 'blob-cached' || e.type === 'blob-fetched') emit({ type: 'layer-done', digest: e.digest, cached: e.type === 'blob-cached' });
      if (e.type === 'blob-retry') emit({ type: 'blob-retry', digest: e.digest, reason: e.reason });
      if (e.type === 'blob-corrupt') emit({ type: 'warning', message: `cached blob ${e.digest} was corrupted on disk; it was removed and is fetched again` });
    },
  });
  emit({ type: 'verified', fetched: result.fetched, cached: result.cached });

  let layout: PullSummary['layout'];
  if (opts.to?.kind === 'oci') {
    const tag = opts.to.tag ?? ref.tag ?? 'latest';
    const out = await exportLayout({ store, dir: opts.to.dir, refName: tag, manifestDigest: result.digest, signal });
    layout = { ...out, tag };
    emit({ type: 'layout', dir: out.dir, tag, converted: out.converted });
  }
  return {
    reference: img.name,
    digest: result.digest,
    mediaType: result.mediaType,
    indexDigest: result.indexDigest,
    platform: formatPlatform(platform),
    layers: result.layers.length,
    size: result.layers.reduce((a, l) => a + l.size, 0),
    fetched: result.fetched,
    cached: result.cached,
    cache: opts.cacheDir,
    resolution: img.resolution === undefined ? undefined : resolutionFacts(img.resolution),
    layout,
    ...(signature === undefined ? {} : { signature }),
  };
}
