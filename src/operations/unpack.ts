/**
 * `unpack`: an image's root filesystem into a directory, safely and atomically, as a task list:
 * resolve → manifest (from the cache when the tag or digest is there) → layers applied in order
 * while later ones download → the manifest recorded in the cache for the next run.
 */
import type { ListrTask } from 'listr2';
import { KairosImgError } from '../errors.js';
import { formatReference, type Reference } from '../reference/reference.js';
import { type RegistryClient } from '../registry/index.js';
import { formatPlatform, parseManifestDocument, type Descriptor, type ImageManifest, type Platform, hostArch as defaultHostArch } from '../oci/index.js';
import { openStore, type Store } from '../store/index.js';
import { checkTarget, unpackImage, type UnpackReport } from '../unpack/index.js';
import { layerInputs } from './layer-source.js';
import { resolveSpec, type CommonOptions, type ImageSpec } from './pull.js';
import { createClient, getManifestExplained, tagSource } from './client.js';
import { resolutionFacts, type Resolution, type ResolutionFacts } from './resolve.js';
import { runTasks, throttle } from '../cli/progress/runner.js';

export interface UnpackOptions extends CommonOptions {
  image: ImageSpec;
  dir: string;
  force?: boolean | undefined;
  /** Ask the registry for the tag even when the cache has it. */
  refresh?: boolean | undefined;
}

export interface UnpackSummary extends UnpackReport {
  reference: string;
  /** The manifest digest (native), the registry digest the engine reported (docker), or null (luet). */
  digest: string | null;
  /** Which engine wrote the tree: kairos-img itself, the Docker engine's container export, or luet. */
  via: 'native' | 'docker' | 'luet';
  /** The engine and command, for the other paths. */
  engine?: string | undefined;
  platform: string;
  /** True when no registry request was made. */
  fromCache: boolean;
  resolution?: ResolutionFacts | undefined;
}

export interface UnpackContext {
  client: RegistryClient | undefined;
  store?: Store;
  reference?: Reference;
  resolution?: Resolution;
  platform?: Platform;
  manifest?: { descriptor: Descriptor; manifest: ImageManifest; raw: Buffer };
  fromCache?: boolean;
  report?: UnpackReport;
}

async function cachedManifest(store: Store, ref: Reference, platform: Platform): Promise<UnpackContext['manifest']> {
  const name = formatReference(ref);
  const desc = await store.resolveTag(name, platform);
  if (desc === undefined || !(await store.has(desc.digest))) return undefined;
  const raw = await store.readBlob(desc.digest);
  const doc = parseManifestDocument(raw, desc.mediaType, name);
  if (doc.kind !== 'manifest') return undefined;
  // Layers missing from the cache are fetched by the unpack step; the manifest is still good.
  return { descriptor: desc, manifest: doc.manifest, raw };
}

export function unpackTasks(opts: UnpackOptions): Array<ListrTask<UnpackContext>> {
  const hostArch = opts.hostArch ?? defaultHostArch();
  const client = (ctx: UnpackContext): RegistryClient => {
    ctx.client ??= createClient({ plainHttp: opts.plainHttp, env: opts.env, log: opts.log });
    return ctx.client;
  };
  return [
    {
      title: 'Resolve the image',
      task: async (ctx, task) => {
        // A target that would be refused is refused before anything is downloaded.
        await checkTarget({ dir: opts.dir, force: opts.force });
        ctx.store = await openStore({ root: opts.cacheDir });
        // The registry is asked only when the catalog cannot name the image alone (no version, no k3s).
        const tags = { listTags: (repo: Reference, signal?: AbortSignal) => tagSource(client(ctx)).listTags(repo, signal) };
        const t = await resolveSpec({ ...opts, hostArch, tags });
        Object.assign(ctx, { reference: t.reference, platform: t.platform, resolution: t.resolution });
        if (ctx.reference === undefined) throw new Error('not resolved');
        task.title = `Resolved ${formatReference(ctx.reference)}`;
      },
    },
    {
      title: 'Find the manifest',
      task: async (ctx, task) => {
        const ref = ctx.reference;
        const store = ctx.store;
        if (ref === undefined || store === undefined || ctx.platform === undefined) throw new Error('not resolved');
        const cached = opts.refresh === true ? undefined : await cachedManifest(store, ref, ctx.platform);
        if (cached !== undefined) {
          ctx.manifest = cached;
          ctx.fromCache = ctx.client === undefined;
          task.title = `Manifest ${cached.descriptor.digest.slice(0, 19)}… from the cache`;
          return;
        }
        const m = await getManifestExplained(client(ctx), ref, { platform: ctx.platform, signal: opts.signal });
        ctx.manifest = { descriptor: m.descriptor, manifest: m.manifest, raw: m.raw };
        ctx.fromCache = false;
        const p = m.descriptor.platform ?? ctx.platform;
        task.title = `Manifest ${m.descriptor.digest.slice(0, 19)}… (${m.manifest.layers.length} layers, ${formatPlatform(p)})`;
      },
    },
    {
      title: 'Unpack the layers',
      task: async (ctx, task) => {
        const m = ctx.manifest;
        const ref = ctx.reference;
        const store = ctx.store;
        if (m === undefined || ref === undefined || store === undefined) throw new Error('no manifest');
        const n = m.manifest.layers.length;
        const total = m.manifest.layers.reduce((a, l) => a + l.size, 0);
        const started = Date.now();
        const done = new Map<number, number>();
        const show = throttle(opts.progress === 'tty' ? 150 : 5000, (layer: number, entries: number) => {
          const bytes = [...done.values()].reduce((a, b) => a + b, 0);
          const secs = Math.max(0.001, (Date.now() - started) / 1000);
          task.output = `layer ${layer + 1}/${n} · ${(bytes / 1048576).toFixed(1)} / ${(total / 1048576).toFixed(1)} MiB · ${(bytes / 1048576 / secs).toFixed(1)} MiB/s · ${entries} entries`;
        });
        const needsClient = !(await Promise.all(m.manifest.layers.map((l) => store.has(l.digest)))).every(Boolean);
        const sources = layerInputs({ client: needsClient ? client(ctx) : ctx.client, store, repo: ref, layers: m.manifest.layers });
        try {
          ctx.report = await unpackImage({
            dir: opts.dir,
            layers: sources.layers,
            force: opts.force === true,
            signal: opts.signal,
            onProgress: (e) => {
              done.set(e.layer, e.bytes);
              show(e.layer, e.entries);
            },
          });
        } finally {
          // Cache writes running beside the unpack end (and clean up) before the command does.
          await sources.settle();
        }
        if (needsClient) ctx.fromCache = false;
        const r = ctx.report;
        task.title = `Unpacked ${n} layers: ${r.entries} entries, ${(r.bytes / 1048576).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`;
      },
    },
    {
      title: 'Record the image in the cache',
      task: async (ctx) => {
        const m = ctx.manifest;
        if (m === undefined || ctx.reference === undefined || ctx.store === undefined) return;
        if (!(await ctx.store.has(m.manifest.config.digest)) && ctx.client !== undefined) {
          await ctx.store.writeBlob(m.manifest.config, ctx.client.fetchBlob(ctx.reference, m.manifest.config, { signal: opts.signal }), { signal: opts.signal, preverified: true });
        }
        await ctx.store.putManifest(formatReference(ctx.reference), m.descriptor, m.raw, { signal: opts.signal });
      },
    },
  ];
}

export function summarizeUnpack(ctx: UnpackContext): UnpackSummary {
  if (ctx.report === undefined || ctx.reference === undefined || ctx.manifest === undefined) {
    throw new KairosImgError('UNPACK_INCOMPLETE', 'the unpack did not complete');
  }
  const p = ctx.manifest.descriptor.platform ?? ctx.platform;
  return {
    ...ctx.report,
    reference: formatReference(ctx.reference),
    digest: ctx.manifest.descriptor.digest,
    via: 'native',
    platform: p === undefined ? 'unknown' : formatPlatform(p),
    fromCache: ctx.fromCache === true,
    resolution: ctx.resolution === undefined ? undefined : resolutionFacts(ctx.resolution),
  };
}

/** Library entry point: unpack an image's root filesystem into `dir`. */
export async function unpack(opts: UnpackOptions): Promise<UnpackSummary> {
  const ctx = await runTasks<UnpackContext>(unpackTasks(opts), { client: opts.client }, { mode: opts.progress ?? 'silent', stderr: opts.stderr, signal: opts.signal });
  return summarizeUnpack(ctx);
}
