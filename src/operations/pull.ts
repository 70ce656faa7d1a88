/**
 * Daemonless pull as a task list: resolve → manifest → layers (bytes, total, rate) → write.
 * The same composition backs the CLI (`kairos-img pull`) and the library (`pull()`).
 */
import path from 'node:path';
import type { ListrTask } from 'listr2';
import { usageError } from '../errors.js';
import { formatReference, type Reference } from '../reference/reference.js';
import { type ManifestResult, type RegistryClient } from '../registry/index.js';
import { formatPlatform, type Platform, hostArch as defaultHostArch } from '../oci/index.js';
import { exportLayout, openStore, pullImage, type ExportLayoutResult, type PullImageResult } from '../store/index.js';
import { createClient, getManifestExplained, tagSource } from './client.js';
import { resolve, resolutionFacts, type Resolution, type ResolutionFacts, type TagSource } from './resolve.js';
import { runTasks, throttle, transferText, type ProgressMode } from '../cli/progress/runner.js';
import type { ImageKind } from '../catalog/index.js';

/** What to pull: a full reference, or a flavor and variant the catalog names. */
export type ImageSpec =
  | { reference: Reference }
  | { flavor: string; variant: string; version?: string | undefined; k3s?: string | undefined; model?: string | undefined; kind?: ImageKind };

/** `docker`: the Docker engine (src/tasks/engine-pull.ts); pullTasks() itself only fills the cache for it. */
export type PullDestination = { kind: 'cache' } | { kind: 'oci'; dir: string; tag?: string | undefined } | { kind: 'docker' };

export interface CommonOptions {
  /** Replaces quay.io (mirrors, the local registry). */
  registry?: string | undefined;
  plainHttp?: boolean | undefined;
  arch?: string | undefined;
  cacheDir: string;
  signal?: AbortSignal | undefined;
  progress?: ProgressMode | undefined;
  stderr?: NodeJS.WriteStream | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Verbose log lines. */
  log?: ((line: string) => void) | undefined;
  hostArch?: string | undefined;
  client?: RegistryClient | undefined;
}

export interface PullOptions extends CommonOptions {
  image: ImageSpec;
  to?: PullDestination | undefined;
  concurrency?: number | undefined;
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
}

export interface PullContext {
  client: RegistryClient;
  reference?: Reference;
  resolution?: Resolution;
  platform?: Platform;
  manifest?: ManifestResult;
  pulling?: Promise<PullImageResult>;
  result?: PullImageResult;
  layout?: ExportLayoutResult & { tag: string };
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

export function platformFor(arch: string | undefined, hostArch: string): Platform {
  return { os: 'linux', architecture: arch ?? hostArch };
}

export interface ResolvedTarget {
  reference: Reference;
  platform: Platform;
  resolution?: Resolution | undefined;
}

/** A full reference as given, or the catalog's reference (asking the registry through `tags` when needed). */
export async function resolveSpec(opts: Pick<CommonOptions, 'arch' | 'registry' | 'signal'> & { image: ImageSpec; hostArch: string; tags: TagSource | undefined }): Promise<ResolvedTarget> {
  if ('reference' in opts.image) return { reference: opts.image.reference, platform: platformFor(opts.arch, opts.hostArch) };
  const r = await resolve({ ...opts.image, arch: opts.arch, registry: opts.registry, hostArch: opts.hostArch, tags: opts.tags, signal: opts.signal });
  return { reference: r.reference, platform: platformFor(r.arch, opts.hostArch), resolution: r };
}

/** Resolution and manifest: the first tasks of every image command. */
export function resolveTasks(opts: CommonOptions & { image: ImageSpec }): Array<ListrTask<PullContext>> {
  const hostArch = opts.hostArch ?? defaultHostArch();
  return [
    {
      title: 'Resolve the image',
      task: async (ctx, task) => {
        const t = await resolveSpec({ ...opts, hostArch, tags: tagSource(ctx.client) });
        Object.assign(ctx, { reference: t.reference, platform: t.platform, resolution: t.resolution });
        if (ctx.reference === undefined) throw new Error('not resolved');
        task.title = `Resolved ${formatReference(ctx.reference)}`;
      },
    },
    {
      title: 'Fetch the manifest',
      task: async (ctx, task) => {
        if (ctx.reference === undefined) throw new Error('no reference');
        ctx.manifest = await getManifestExplained(ctx.client, ctx.reference, { platform: ctx.platform, signal: opts.signal });
        const p = ctx.manifest.descriptor.platform ?? ctx.platform;
        task.title = `Manifest ${ctx.manifest.descriptor.digest.slice(0, 19)}… (${ctx.manifest.manifest.layers.length} layers${p === undefined ? '' : `, ${formatPlatform(p)}`})`;
      },
    },
  ];
}

export function pullTasks(opts: PullOptions): Array<ListrTask<PullContext>> {
  const plain = opts.progress !== 'tty';
  return [
    ...resolveTasks(opts),
    {
      title: 'Fetch layers',
      task: async (ctx, task) => {
        const m = ctx.manifest;
        const ref = ctx.reference;
        if (m === undefined || ref === undefined) throw new Error('no manifest');
        const store = await openStore({ root: opts.cacheDir });
        const started = Date.now();
        const progress = new Map<string, (bytes: number, total: number) => void>();
        const done = new Map<string, { resolve: (cached: boolean) => void; reject: (e: unknown) => void; promise: Promise<boolean> }>();
        for (const l of m.manifest.layers) {
          let res!: (cached: boolean) => void;
          let rej!: (e: unknown) => void;
          const promise = new Promise<boolean>((a, b) => { res = a; rej = b; });
          promise.catch(() => undefined);
          done.set(l.digest, { resolve: res, reject: rej, promise });
        }
        const pulling = pullImage({
          client: ctx.client,
          store,
          ref,
          manifest: m,
          platform: ctx.platform,
          concurrency: opts.concurrency,
          signal: opts.signal,
          onLayerProgress: (digest, bytes, total) => progress.get(digest)?.(bytes, total),
          onEvent: (e) => {
            if (e.type === 'blob-cached' || e.type === 'blob-fetched') done.get(e.digest)?.resolve(e.type === 'blob-cached');
            if (e.type === 'blob-retry') opts.log?.(`retrying ${e.digest.slice(0, 19)}: ${e.reason}`);
          },
        });
        pulling.catch((e: unknown) => { for (const d of done.values()) d.reject(e); });
        ctx.pulling = pulling;
        // Returned, not run: the parent list renders the layer subtasks (on stderr, like the rest).
        return task.newListr<PullContext>(
          [
            ...m.manifest.layers.map((l, i): ListrTask<PullContext> => ({
              title: `Layer ${i + 1}/${m.manifest.layers.length} ${l.digest.slice(7, 19)} (${(l.size / 1048576).toFixed(1)} MiB)`,
              task: async (_c, t) => {
                const show = throttle(plain ? 5000 : 150, (bytes: number, total: number) => { t.output = transferText(bytes, total, started); });
                progress.set(l.digest, show);
                const cached = await done.get(l.digest)?.promise;
                t.title = `${t.title ?? ''}${cached === true ? ' cached' : ''}`;
              },
            })),
          ],
          { concurrent: true, exitOnError: true },
        );
      },
    },
    {
      title: 'Verify and record the image',
      task: async (ctx, task) => {
        if (ctx.pulling === undefined) throw new Error('no pull under way');
        const result = await ctx.pulling;
        ctx.result = result;
        task.title = `Verified: ${result.fetched} blobs fetched, ${result.cached} already cached`;
      },
    },
    ...(opts.to?.kind === 'oci'
      ? [{
          title: 'Write the OCI layout',
          task: async (ctx: PullContext, task: { title: string | undefined }) => {
            const to = opts.to;
            if (to?.kind !== 'oci' || ctx.result === undefined || ctx.reference === undefined) return;
            const tag = to.tag ?? ctx.reference.tag ?? 'latest';
            const store = await openStore({ root: opts.cacheDir });
            const out = await exportLayout({ store, dir: to.dir, refName: tag, manifestDigest: ctx.result.digest, signal: opts.signal });
            ctx.layout = { ...out, tag };
            task.title = `Wrote oci:${to.dir}:${tag}${out.converted ? ' (converted to OCI media types)' : ''}`;
          },
        } satisfies ListrTask<PullContext>]
      : []),
  ];
}

export function summarize(ctx: PullContext, cacheDir: string): PullSummary {
  const r = ctx.result;
  if (r === undefined || ctx.reference === undefined) throw new Error('pull did not complete');
  const p = ctx.manifest?.descriptor.platform ?? ctx.platform;
  return {
    reference: formatReference(ctx.reference),
    digest: r.digest,
    mediaType: r.mediaType,
    indexDigest: r.indexDigest,
    platform: p === undefined ? 'unknown' : formatPlatform(p),
    layers: r.layers.length,
    size: r.layers.reduce((a, l) => a + l.size, 0),
    fetched: r.fetched,
    cached: r.cached,
    cache: cacheDir,
    resolution: ctx.resolution === undefined ? undefined : resolutionFacts(ctx.resolution),
    layout: ctx.layout,
  };
}

/** Library entry point: pull an image into the cache (and optionally an OCI layout). */
export async function pull(opts: PullOptions): Promise<PullSummary> {
  const client = opts.client ?? createClient({ plainHttp: opts.plainHttp, env: opts.env, log: opts.log });
  const ctx = await runTasks<PullContext>(pullTasks(opts), { client }, { mode: opts.progress ?? 'silent', stderr: opts.stderr, signal: opts.signal });
  return summarize(ctx, opts.cacheDir);
}
