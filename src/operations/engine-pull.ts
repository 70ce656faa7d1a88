/**
 * `pull --to docker` as a task list: connect to the engine (first, so a missing engine fails
 * before any registry traffic) → resolve → manifest (our client: its errors say more than the
 * engine's) → the engine pulls, per-layer progress from its stream. With `--from-cache`: resolve
 * against the cache's own tags → find the cached image → stream it into `docker load`; no registry
 * traffic at all.
 */
import type { ListrTask } from 'listr2';
import { formatReference, parseReference, repositoryName, type Reference } from '../reference/reference.js';
import { dockerConfigCredentials } from '../registry/index.js';
import { formatPlatform, type Platform, hostArch as defaultHostArch } from '../oci/index.js';
import { openStore, REF_NAME, type Store } from '../store/index.js';
import {
  connectDocker, findCachedImage, layerProgressId, loadCachedImage, pullIntoEngine,
  type CachedImage, type EngineConnection, type EnginePullResult, type LoadCachedImageResult,
} from '../engine/docker.js';
import { platformFor, resolveTasks, type CommonOptions, type ImageSpec, type PullContext } from './pull.js';
import { resolve, resolutionFacts, type ResolutionFacts, type TagSource } from './resolve.js';
import { createClient } from './client.js';
import { runTasks, throttle, transferText } from '../cli/progress/runner.js';

export interface EnginePullOptions extends CommonOptions {
  image: ImageSpec;
  /** Load the cached image instead of letting the engine pull from the registry. */
  fromCache?: boolean | undefined;
}

export interface EnginePullContext extends PullContext {
  engine?: EngineConnection;
  store?: Store;
  cached?: CachedImage;
  pulled?: EnginePullResult;
  enginePulling?: Promise<EnginePullResult>;
  engineStarted?: number;
  loaded?: LoadCachedImageResult;
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

function hostArchOf(opts: CommonOptions): string {
  return opts.hostArch ?? defaultHostArch();
}

function connectTask(opts: EnginePullOptions): ListrTask<EnginePullContext> {
  return {
    title: 'Connect to the Docker engine',
    task: async (ctx, task) => {
      ctx.engine = await connectDocker({ env: opts.env, signal: opts.signal });
      task.title = `Docker engine ${ctx.engine.version} at ${ctx.engine.address.display}`;
    },
  };
}

function cacheResolveTasks(opts: EnginePullOptions): Array<ListrTask<EnginePullContext>> {
  return [
    {
      title: 'Resolve the image from the cache',
      task: async (ctx, task) => {
        const store = await openStore({ root: opts.cacheDir });
        ctx.store = store;
        if ('reference' in opts.image) {
          ctx.reference = opts.image.reference;
          ctx.platform = platformFor(opts.arch, hostArchOf(opts));
        } else {
          const r = await resolve({
            ...opts.image, arch: opts.arch, registry: opts.registry, hostArch: hostArchOf(opts), tags: cacheTagSource(store), signal: opts.signal,
          });
          ctx.resolution = r;
          ctx.reference = r.reference;
          ctx.platform = platformFor(r.arch, hostArchOf(opts));
        }
        task.title = `Resolved ${formatReference(ctx.reference)} (cache)`;
      },
    },
    {
      title: 'Find the image in the cache',
      task: async (ctx, task) => {
        if (ctx.store === undefined || ctx.reference === undefined || ctx.platform === undefined) throw new Error('not resolved');
        ctx.cached = await findCachedImage(ctx.store, ctx.reference, ctx.platform);
        task.title = `Cached manifest ${ctx.cached.manifestDigest.slice(0, 19)}… (${ctx.cached.manifest.layers.length} layers)`;
      },
    },
  ];
}

function loadTask(opts: EnginePullOptions): ListrTask<EnginePullContext> {
  const plain = opts.progress !== 'tty';
  return {
    title: 'Load into the Docker engine',
    task: async (ctx, task) => {
      const { engine, store, reference, platform, cached } = ctx;
      if (engine === undefined || store === undefined || reference === undefined || platform === undefined || cached === undefined) throw new Error('not resolved');
      const started = Date.now();
      const show = throttle(plain ? 5000 : 150, (bytes: number, total: number) => { task.output = transferText(bytes, total, started); });
      ctx.loaded = await loadCachedImage({ docker: engine.docker, store, reference, platform, cached, signal: opts.signal, onBytes: show });
      task.title = `Loaded ${ctx.loaded.imageId.slice(0, 19)}… into the engine (${((Date.now() - started) / 1000).toFixed(1)} s)`;
    },
  };
}

interface Deferred {
  promise: Promise<boolean>;
  resolve: (cached: boolean) => void;
  reject: (e: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: (cached: boolean) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<boolean>((a, b) => { resolve = a; reject = b; });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function engineLayerTasks(opts: EnginePullOptions): Array<ListrTask<EnginePullContext>> {
  const plain = opts.progress !== 'tty';
  return [{
    title: 'Pull into the Docker engine',
    task: async (ctx, task) => {
      const { engine, reference, platform, manifest } = ctx;
      if (engine === undefined || reference === undefined || platform === undefined) throw new Error('not resolved');
      const started = Date.now();
      const layers = [...new Map((manifest?.manifest.layers ?? []).map((l) => [layerProgressId(l.digest), l])).entries()];
      const done = new Map(layers.map(([id]) => [id, deferred()]));
      const shows = new Map<string, (text: string) => void>();
      const pulling = pullIntoEngine({
        docker: engine.docker,
        reference,
        platform: platformString(platform),
        credentials: dockerConfigCredentials({ env: opts.env ?? process.env }),
        plainHttp: opts.plainHttp,
        signal: opts.signal,
        onProgress: (state, id) => {
          if (id === undefined) return;
          const l = state.layers[id];
          if (l === undefined) return;
          if (l.phase === 'done') done.get(id)?.resolve(l.cached);
          const verb = l.phase === 'extracting' ? 'extracting' : l.phase === 'retrying' ? l.status.toLowerCase() : l.phase === 'downloading' ? 'downloading' : l.phase;
          shows.get(id)?.(l.total > 0 && (l.phase === 'downloading' || l.phase === 'extracting') ? `${verb} ${transferText(l.current, l.total, started)}` : verb);
        },
      });
      // Layers the engine never mentions (it had the whole image) finish with the pull.
      pulling.then(() => { for (const d of done.values()) d.resolve(true); }, (e: unknown) => { for (const d of done.values()) d.reject(e); });
      ctx.enginePulling = pulling;
      ctx.engineStarted = started;
      // Returned, not run: the parent list renders the layer subtasks (on stderr, like the rest).
      return task.newListr<EnginePullContext>(
        layers.map(([id, l], i) => ({
          title: `Layer ${i + 1}/${layers.length} ${id} (${(l.size / 1048576).toFixed(1)} MiB)`,
          task: async (_c, t) => {
            shows.set(id, throttle(plain ? 5000 : 150, (text: string) => { t.output = text; }));
            const cached = await done.get(id)?.promise;
            t.title = `${t.title ?? ''}${cached === true ? ' already in the engine' : ''}`;
          },
        })),
        { concurrent: true, exitOnError: true },
      );
    },
  }, {
    title: 'Check the image in the engine',
    task: async (ctx, task) => {
      if (ctx.enginePulling === undefined) throw new Error('no pull under way');
      const result = await ctx.enginePulling;
      ctx.pulled = result;
      task.title = `${result.upToDate ? 'Already in the engine' : 'Pulled into the engine'}: ${result.imageId.slice(0, 19)}… (${((Date.now() - (ctx.engineStarted ?? Date.now())) / 1000).toFixed(1)} s)`;
    },
  }];
}

function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant === undefined ? '' : `/${p.variant}`}`;
}

export function enginePullTasks(opts: EnginePullOptions): Array<ListrTask<EnginePullContext>> {
  if (opts.fromCache === true) return [connectTask(opts), ...cacheResolveTasks(opts), loadTask(opts)];
  return [connectTask(opts), ...(resolveTasks(opts) as Array<ListrTask<EnginePullContext>>), ...engineLayerTasks(opts)];
}

export function summarizeEnginePull(ctx: EnginePullContext): EnginePullSummary {
  const { engine, reference } = ctx;
  if (engine === undefined || reference === undefined) throw new Error('pull did not complete');
  const p = ctx.manifest?.descriptor.platform ?? ctx.cached?.platform ?? ctx.platform;
  const common = {
    reference: formatReference(reference),
    engine: { version: engine.version, host: engine.address.display },
    platform: p === undefined ? 'unknown' : formatPlatform(p),
    resolution: ctx.resolution === undefined ? null : resolutionFacts(ctx.resolution),
  };
  if (ctx.loaded !== undefined) {
    const l = ctx.loaded;
    return { ...common, name: l.name ?? null, source: 'cache', imageId: l.imageId, digest: l.manifestDigest, repoDigests: l.repoDigests, repoTags: l.repoTags, layers: l.layers, upToDate: false };
  }
  const r = ctx.pulled;
  if (r === undefined) throw new Error('pull did not complete');
  const digest = ctx.manifest?.index?.descriptor.digest ?? ctx.manifest?.descriptor.digest ?? r.digest ?? '';
  return {
    ...common, name: r.name, source: 'registry', imageId: r.imageId, digest: r.digest ?? digest, repoDigests: r.repoDigests, repoTags: r.repoTags,
    layers: ctx.manifest?.manifest.layers.length ?? 0, upToDate: r.upToDate,
  };
}

/** Library entry point: the image into the Docker engine, from the registry or the cache. */
export async function pullToEngine(opts: EnginePullOptions): Promise<EnginePullSummary> {
  const client = opts.client ?? createClient({ plainHttp: opts.plainHttp, env: opts.env, log: opts.log });
  const ctx = await runTasks<EnginePullContext>(enginePullTasks(opts), { client }, { mode: opts.progress ?? 'silent', stderr: opts.stderr, signal: opts.signal });
  return summarizeEnginePull(ctx);
}
