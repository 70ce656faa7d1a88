/** Turns a command's positional arguments and image options into one reference. */
import { resolve, type Resolution, type TagSource } from '../tasks/resolve.js';
import type { ImageKind } from '../catalog/resolve.js';
import { rewriteRegistry, type Reference } from '../reference/reference.js';
import { parseTarget } from './target.js';
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
  usage: string;
  defaultVariant?: string;
  tags?: TagSource | undefined;
}

export async function resolveImage(ctx: CliContext, args: readonly string[], opts: ResolveTargetOptions): Promise<TargetResolution> {
  const target = parseTarget(args, { usage: opts.usage, ...(opts.defaultVariant === undefined ? {} : { defaultVariant: opts.defaultVariant }) });
  if (target.kind === 'reference') {
    for (const flag of ['version', 'k3s', 'model'] as const) {
      if (opts[flag] !== undefined) throw usageError('CONFLICTING_OPTIONS', `--${flag} applies to <flavor> <variant>, not to a full reference`, `drop --${flag}, or name the image by flavor and variant`);
    }
    // --registry also redirects full quay.io references, so a mirror serves every form alike.
    const reference = rewriteRegistry(target.reference, 'quay.io', ctx.registry);
    if (reference.tag === undefined && reference.digest === undefined) {
      return { reference: { ...reference, tag: 'latest' } };
    }
    return { reference };
  }
  const r = await resolve({
    flavor: target.flavor,
    variant: target.variant,
    version: opts.version,
    k3s: opts.k3s,
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
