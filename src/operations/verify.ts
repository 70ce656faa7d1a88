/**
 * `verify` as a task list: resolve → manifest → tag list → config → release files (top layers
 * only) → the checks of src/policy/image-checks.ts. The same composition backs the CLI and the
 * library function `verify()`. `offline` checks the tag grammar alone, with no network.
 */
import type { ListrTask } from 'listr2';
import { loadCatalog } from '../catalog/index.js';
import { normalizeArch, resolveImage as resolveCatalogImage } from '../catalog/index.js';
import type { Catalog } from '../catalog/index.js';
import {
  allPassed,
  checkArch,
  checkKairosRelease,
  checkSignatures,
  checkSupport,
  checkTagGrammar,
  checkUpstreamPin,
  type Check,
} from '../policy/image-checks.js';
import { flavorByName, identifyFlavor, type FlavorIdentity } from '../policy/image-flavor.js';
import { RELEASE_FILES, releaseFilesDecided, type ReleaseFiles } from '../policy/release-files.js';
import { parseTag, type ReleaseTag } from '../policy/tag.js';
import { formatReference, type Reference } from '../reference/reference.js';
import { type RegistryClient } from '../registry/index.js';
import { formatPlatform, type Descriptor, hostArch as defaultHostArch } from '../oci/index.js';
import { readImageFiles, type ReadFilesResult } from '../unpack/read-files.js';
import { resolveTasks, type CommonOptions, type ImageSpec, type PullContext } from './pull.js';
import { createClient } from './client.js';
import { runTasks } from '../cli/progress/runner.js';

export interface VerifyOptions extends Omit<CommonOptions, 'cacheDir'> {
  image: ImageSpec;
  /** Check the tag grammar only, without any network access. */
  offline?: boolean | undefined;
  catalog?: Catalog | undefined;
}

export interface ReadStats {
  bytesRead: number;
  bytesTotal: number;
  layersRead: number;
  layersTotal: number;
}

export interface VerifyReport {
  reference: string;
  /** The digest the tag names: the index digest for a multi-arch image. */
  digest?: string | undefined;
  /** The platform image that was inspected (differs from `digest` for an index). */
  manifestDigest?: string | undefined;
  platform?: string | undefined;
  /** Catalog flavors the image was identified as (empty when unknown). */
  flavors: string[];
  ok: boolean;
  checks: Check[];
  read?: ReadStats | undefined;
}

export interface VerifyContext extends PullContext {
  catalog?: Catalog;
  identity?: FlavorIdentity;
  tags?: string[];
  configArch?: string | undefined;
  files?: ReadFilesResult;
  report?: VerifyReport;
}

function releaseTagOf(ref: Reference | undefined): ReleaseTag | undefined {
  if (ref?.tag === undefined) return undefined;
  const t = parseTag(ref.tag);
  return t.kind === 'noise' ? undefined : t;
}

/** The reference without network access: a full reference as given, or the catalog's name (needs --version). */
export async function offlineReference(opts: VerifyOptions, catalog: Catalog): Promise<Reference> {
  if ('reference' in opts.image) return opts.image.reference;
  const r = resolveCatalogImage(catalog, {
    flavor: opts.image.flavor,
    variant: opts.image.variant,
    version: opts.image.version ?? '',
    k3s: opts.image.k3s,
    arch: opts.arch,
    model: opts.image.model,
    registry: opts.registry,
    hostArch: opts.hostArch,
  });
  return r.reference;
}

/** Which arch to inspect for a reference: --arch, else what the tag says, else one the flavor ships (the host's when it can). */
function archFor(opts: VerifyOptions, catalog: Catalog, hostArch: string): string | undefined {
  if (opts.arch !== undefined || !('reference' in opts.image)) return opts.arch;
  const tag = releaseTagOf(opts.image.reference);
  if (tag === undefined) return undefined;
  if (tag.arch !== undefined) return tag.arch;
  const arches = identifyFlavor(catalog, opts.image.reference.repository, tag).arches ?? [];
  return arches.length === 0 || arches.includes(hostArch) ? undefined : arches[0];
}

function releaseFiles(view: Pick<ReadFilesResult, 'lookup'>): ReleaseFiles {
  const out: Record<string, ReleaseFiles[string]> = {};
  for (const path of RELEASE_FILES) {
    const l = view.lookup(path);
    out[path] = l.state === 'present' ? { state: 'present', text: l.content.toString('utf8'), path: l.path } : l;
  }
  return out;
}

function imageChecks(ctx: VerifyContext, tag: ReleaseTag | undefined, requestedArch: string | undefined): Check[] {
  const id = ctx.identity ?? { candidates: [], names: [], reason: 'not determined' };
  if (tag === undefined) {
    const why = 'the tag carries no Kairos version to compare the image with';
    return [
      { id: 'kairos-release', ok: 'skipped', message: why },
      { id: 'upstream-pin', ok: 'skipped', message: why },
      { id: 'arch', ok: 'skipped', message: `${why} (config: ${ctx.configArch ?? 'none'})` },
    ];
  }
  if (tag.artifact) {
    const why = 'a disk-image artifact, not an OS image: its files are not release files';
    return (['kairos-release', 'upstream-pin', 'arch'] as const).map((c) => ({ id: c, ok: 'skipped' as const, message: why }));
  }
  const files = ctx.files === undefined ? {} : releaseFiles(ctx.files);
  const facts = { tag, files, flavor: id };
  return [
    checkKairosRelease(facts),
    checkUpstreamPin(facts),
    checkArch({ configArch: ctx.configArch, tag, flavor: id, requested: requestedArch }),
  ];
}

function layerBlobs(client: RegistryClient, ref: Reference, layers: readonly Descriptor[]) {
  return layers.map((d) => ({
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
    open: (signal?: AbortSignal) => client.fetchBlob(ref, d, { signal }),
  }));
}

export function verifyTasks(opts: VerifyOptions, catalog: Catalog): Array<ListrTask<VerifyContext>> {
  const hostArch = opts.hostArch ?? defaultHostArch();
  const arch = archFor(opts, catalog, hostArch);
  return [
    ...(resolveTasks({ ...opts, arch, cacheDir: '', hostArch }) as Array<ListrTask<VerifyContext>>),
    {
      title: 'List the repository\'s tags',
      task: async (ctx, task) => {
        if (ctx.reference === undefined) throw new Error('no reference');
        ctx.tags = await ctx.client.listTags(ctx.reference, { signal: opts.signal });
        task.title = `Listed ${ctx.tags.length} tags of ${ctx.reference.repository}`;
      },
    },
    {
      title: 'Read the image config',
      task: async (ctx, task) => {
        const m = ctx.manifest;
        if (m === undefined || ctx.reference === undefined) throw new Error('no manifest');
        const raw = await ctx.client.fetchBlobToBuffer(ctx.reference, m.manifest.config, { signal: opts.signal });
        let config: { architecture?: unknown } = {};
        try {
          config = JSON.parse(raw.toString('utf8')) as { architecture?: unknown };
        } catch {
          // An unparsable config names no architecture; the arch check says so.
        }
        ctx.configArch = typeof config.architecture === 'string' ? config.architecture : undefined;
        task.title = `Config: ${ctx.configArch ?? 'no architecture'}`;
      },
    },
    {
      title: 'Read the release files (top layers only)',
      skip: (ctx) => {
        const tag = releaseTagOf(ctx.reference);
        return tag === undefined || tag.artifact;
      },
      task: async (ctx, task) => {
        const m = ctx.manifest;
        const ref = ctx.reference;
        if (m === undefined || ref === undefined) throw new Error('no manifest');
        const tag = releaseTagOf(ref);
        ctx.files = await readImageFiles({
          layers: layerBlobs(ctx.client, ref, m.manifest.layers),
          paths: RELEASE_FILES,
          decided: (view) => releaseFilesDecided(releaseFiles(view), tag?.version),
          signal: opts.signal,
          onLayer: (i) => {
            task.output = `layer ${i + 1} of ${m.manifest.layers.length}`;
          },
        });
        const f = ctx.files;
        task.title = `Read ${f.layersRead} of ${f.layersTotal} layers (${f.bytesRead} of ${f.bytesTotal} bytes)`;
      },
    },
    {
      title: 'Check',
      task: (ctx, task) => {
        const ref = ctx.reference;
        const m = ctx.manifest;
        if (ref === undefined || m === undefined) throw new Error('no manifest');
        const tag = releaseTagOf(ref);
        if (tag !== undefined) {
          ctx.identity = ctx.resolution !== undefined
            ? flavorByName(catalog, ctx.resolution.flavor, tag.version)
            : identifyFlavor(catalog, ref.repository, tag);
        }
        const digest = m.index?.descriptor.digest ?? m.descriptor.digest;
        const tags = ctx.tags ?? [];
        const checks: Check[] = [
          checkTagGrammar(ref.tag),
          checkSupport(ref.tag, tags),
          ...imageChecks(ctx, tag, opts.arch === undefined ? undefined : normalizeArch(opts.arch)),
          checkSignatures(digest, tags),
        ];
        const p = m.descriptor.platform ?? ctx.platform;
        const f = ctx.files;
        ctx.report = {
          reference: formatReference(ref),
          digest,
          manifestDigest: m.descriptor.digest,
          platform: p === undefined ? undefined : formatPlatform(p),
          flavors: ctx.identity?.candidates.map((c) => c.name) ?? [],
          ok: allPassed(checks),
          checks,
          read: f === undefined ? undefined : { bytesRead: f.bytesRead, bytesTotal: f.bytesTotal, layersRead: f.layersRead, layersTotal: f.layersTotal },
        };
        const failed = checks.filter((c) => c.ok === false).length;
        task.title = ctx.report.ok ? 'All checks passed' : `${failed} check${failed === 1 ? '' : 's'} failed`;
      },
    },
  ];
}

/** The offline verdict: the tag grammar of the named reference, nothing else. */
export async function verifyOffline(opts: VerifyOptions, catalog?: Catalog): Promise<VerifyReport> {
  const ref = await offlineReference(opts, catalog ?? opts.catalog ?? (await loadCatalog('kairos')));
  const checks = [checkTagGrammar(ref.tag)];
  return { reference: formatReference(ref), flavors: [], ok: allPassed(checks), checks };
}

/** Library entry point: verify an image against its tag, the versioning policy and its flavor's pin. */
export async function verify(opts: VerifyOptions): Promise<VerifyReport> {
  const catalog = opts.catalog ?? (await loadCatalog('kairos'));
  if (opts.offline === true) return verifyOffline(opts, catalog);
  const client = opts.client ?? createClient({ plainHttp: opts.plainHttp, env: opts.env, log: opts.log });
  const ctx = await runTasks<VerifyContext>(verifyTasks(opts, catalog), { client }, {
    mode: opts.progress ?? 'silent',
    stderr: opts.stderr,
    signal: opts.signal,
  });
  if (ctx.report === undefined) throw new Error('verify did not complete');
  return ctx.report;
}
