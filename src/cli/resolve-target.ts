/** Turns a command's positional arguments and image options into one reference. */
import { resolve, type Resolution, type TagSource } from '../operations/resolve.js';
import type { ImageKind } from '../catalog/index.js';
import type { Reference } from '../reference/reference.js';
import { mirrored } from './mirror.js';
import { parseTarget, type Target } from './target.js';
import type { ImageSpec } from '../operations/common.js';
import type { CliContext } from './context.js';
import type { ImageOptions } from './image-options.js';
import { usageError } from '../errors.js';

export interface TargetResolution {
  reference: Reference;
  /** Present when the image was named by flavor and variant. */
  catalog?: Resolution;
}

export interface ResolveTargetOptions extends ImageOptions {
  kind?: ImageKind;
  /** v2.4.2+ naming: the flavor release, the Kubernetes distribution (k0s), a UKI image. */
  flavorRelease?: string | undefined;
  k0s?: string | undefined;
  kubernetes?: string | undefined;
  uki?: boolean | undefined;
  usage: string;
  defaultVariant?: string;
  tags?: TagSource | undefined;
}

export async function resolveImage(ctx: CliContext, args: readonly string[], opts: ResolveTargetOptions): Promise<TargetResolution> {
  const target = parseTarget(args, { usage: opts.usage, ...(opts.defaultVariant === undefined ? {} : { defaultVariant: opts.defaultVariant }) });
  if (target.kind === 'source') {
    throw usageError('SOURCE_NOT_SUPPORTED', `${target.text}: this command names registry images; read an image source with pull, unpack, verify or extract-img`);
  }
  if (target.kind === 'reference') {
    rejectCatalogOptions(opts);
    // --registry also redirects full references to the catalogs' registries: a mirror serves every form alike.
    return { reference: await mirrored(target.reference, ctx.registry) };
  }
  const r = await resolve({
    flavor: target.flavor,
    variant: target.variant,
    version: opts.version,
    k3s: opts.k3s,
    k0s: opts.k0s,
    kubernetes: opts.kubernetes,
    flavorRelease: opts.flavorRelease,
    uki: opts.uki,
    arch: opts.arch,
    model: opts.model,
    kind: opts.kind ?? 'image',
    registry: ctx.registry,
    hostArch: ctx.hostArch,
    tags: opts.tags,
    signal: ctx.signal,
  });
  return { reference: r.reference, catalog: r };
}

/** --version, --k3s and --model name a catalog release; with a full reference they are a mistake. */
export function rejectCatalogOptions(opts: ImageOptions): void {
  for (const flag of ['version', 'k3s', 'model'] as const) {
    if (opts[flag] !== undefined) throw usageError('CONFLICTING_OPTIONS', `--${flag} applies to <flavor> <variant>, not to a full reference`, `drop --${flag}, or name the image by flavor and variant`);
  }
}

/** The image a command names, for the task lists: a full reference (mirrored) or a catalog request. */
export async function imageSpec(ctx: CliContext, target: Target, opts: ImageOptions): Promise<ImageSpec> {
  if (target.kind === 'source') {
    rejectCatalogOptions(opts);
    return { source: target.source };
  }
  if (target.kind === 'reference') {
    rejectCatalogOptions(opts);
    return { reference: await mirrored(target.reference, ctx.registry) };
  }
  return { flavor: target.flavor, variant: target.variant, version: opts.version, k3s: opts.k3s, model: opts.model };
}
