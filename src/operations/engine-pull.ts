/**
 * `pull --to docker`: connect to the engine (first, so a missing engine fails before any registry
 * traffic) → resolve → manifest (our client: its errors say more than the engine's) → the engine
 * pulls, with per-layer progress from its stream. With `fromCache`: resolve against the cache's own
 * tags → find the cached image → stream it into `docker load`; no registry traffic at all.
 */
import { formatReference, parseReference, repositoryName, type Reference } from '../reference/reference.js';
import { dockerConfigCredentials } from '../registry/index.js';
import { formatPlatform, hostArch as detectHostArch } from '../oci/index.js';
import { openStore, REF_NAME, type Store } from '../store/index.js';
import { connectDocker, findCachedImage, layerProgressId, loadCachedImage, pullIntoEngine } from '../engine/docker.js';
import { getManifestExplained } from './client.js';
import { lazyClient, resolveTarget, type ImageSpec, type OperationOptions } from './common.js';
import { emitter, type EnginePullEvent } from './events.js';
import { resolutionFacts, type ResolutionFacts, type TagSource } from './resolve.js';

export interface EnginePullOptions extends OperationOptions<EnginePullEvent> {
  image: ImageSpec;
  /** The content cache (read with `fromCache`). */
  cacheDir: string;
  /** Load the cached image instead of letting the engine pull from the registry. */
  fromCache?: boolean | undefined;
}

export interface EnginePullSummary {
  reference: string;
  /** What `docker run` is given. */
  name: string | null;
  source: 'registry' | 'cache';
  engine: { version: string; host: string };
  imageId: string;
  /** The image manifest digest (the registry's, or the cached one). */
  digest: string;
  /** `repository@digest` names the engine records (empty after a load from the cache). */
  repoDigests: string[];
  repoTags: string[];
  platform: string;
  layers: number;
  upToDate: boolean;
  resolution: ResolutionFacts | null;
}

/** Tags of a repository as the cache knows them (index.json ref names): resolution without a registry. */
export function cacheTagSource(store: Store): TagSource {
  return {
    async listTags(repository: Reference) {
      const index = await store.readIndex();
      const want = repositoryName(repository);
      const tags = new Set<string>();
      for (const d of index.manifests) {
        const name = d.annotations?.[REF_NAME];
        if (name === undefined) continue;
        try {
          const ref = parseReference(name);
          if (repositoryName(ref) === want && ref.tag !== undefined) tags.add(ref.tag);
        } catch {
          // a ref name another tool wrote: not ours to resolve
        }
      }
      return tags.size === 0 ? undefined : [...tags];
    },
  };
}

/** The image into the Docker engine, from the registry (the engine pulls) or from the cache (`docker load`). */
export async function pullToEngine(opts: EnginePullOptions): Promise<EnginePullSummary> {
  const emit = emitter(opts.onEvent);
  const { signal } = opts;
  const env = opts.env ?? process.env;
  const engine = await connectDocker({ env, signal });
  emit({ type: 'engine', version: engine.version, host: engine.address.display });
  const common = { engine: { version: engine.version, host: engine.address.display } };

  if (opts.fromCache === true) {
    const store = await openStore({ root: opts.cacheDir });
    const target = await resolveTarget({ ...opts, hostArch: opts.hostArch ?? detectHostArch(), tags: cacheTagSource(store), source: 'cache', emit });
    const cached = await findCachedImage(store, target.reference, target.platform);
    emit({ type: 'cached-image', digest: cached.manifestDigest, layers: cached.manifest.layers.length });
    const started = Date.now();
    const loaded = await loadCachedImage({
      docker: engine.docker, store, reference: target.reference, platform: target.platform, cached, signal,
      onBytes: (bytes, total) => emit({ type: 'load-progress', bytes, total }),
    });
    emit({ type: 'loaded', imageId: loaded.imageId, seconds: (Date.now() - started) / 1000 });
    const p = cached.platform ?? target.platform;
    return {
      ...common, reference: formatReference(target.reference), platform: formatPlatform(p),
      resolution: target.resolution === undefined ? null : resolutionFacts(target.resolution),
      name: loaded.name ?? null, source: 'cache', imageId: loaded.imageId, digest: loaded.manifestDigest,
      repoDigests: loaded.repoDigests, repoTags: loaded.repoTags, layers: loaded.layers, upToDate: false,
    };
  }

  const client = lazyClient(opts, emit);
  const target = await resolveTarget({ ...opts, tags: client.tags(), emit });
  const m = await getManifestExplained(client.get(), target.reference, { platform: target.platform, signal });
  const platform = m.descriptor.platform ?? target.platform;
  emit({
    type: 'manifest', digest: m.descriptor.digest, indexDigest: m.index?.descriptor.digest, platform: formatPlatform(platform),
    layers: m.manifest.layers.length, size: m.manifest.layers.reduce((a, l) => a + l.size, 0), fromCache: false,
  });
  const started = Date.now();
  const layers = [...new Map(m.manifest.layers.map((l) => [layerProgressId(l.digest), l])).entries()];
  emit({ type: 'engine-layers', layers: layers.map(([id, l]) => ({ id, size: l.size })) });
  const finished = new Set<string>();
  const result = await pullIntoEngine({
    docker: engine.docker,
    reference: target.reference,
    platform: formatPlatform(target.platform),
    credentials: dockerConfigCredentials({ env }),
    plainHttp: opts.plainHttp,
    signal,
    onProgress: (state, id) => {
      if (id === undefined) return;
      const l = state.layers[id];
      if (l === undefined || finished.has(id)) return;
      if (l.phase === 'done') {
        finished.add(id);
        emit({ type: 'engine-layer-done', id, cached: l.cached });
        return;
      }
      emit({ type: 'engine-layer', id, phase: l.phase, status: l.status, current: l.current, total: l.total });
    },
  });
  // Layers the engine never mentions (it had the whole image) finish with the pull.
  for (const [id] of layers) if (!finished.has(id)) emit({ type: 'engine-layer-done', id, cached: true });
  emit({ type: 'engine-pulled', imageId: result.imageId, upToDate: result.upToDate, seconds: (Date.now() - started) / 1000 });
  const digest = m.index?.descriptor.digest ?? m.descriptor.digest;
  return {
    ...common, reference: formatReference(target.reference), platform: formatPlatform(platform),
    resolution: target.resolution === undefined ? null : resolutionFacts(target.resolution),
    name: result.name, source: 'registry', imageId: result.imageId, digest: result.digest ?? digest,
    repoDigests: result.repoDigests, repoTags: result.repoTags, layers: m.manifest.layers.length, upToDate: result.upToDate,
  };
}
