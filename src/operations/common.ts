/**
 * What every image operation shares: which image (a reference string, a parsed reference, or a
 * catalog name), where the registry is, the abort signal and the event sink; and the first step
 * of each, naming the image.
 */
import { hostArch as detectHostArch, type Platform } from '../oci/index.js';
import { formatReference, parseReference, type Reference } from '../reference/reference.js';
import type { RegistryClient } from '../registry/index.js';
import type { ImageKind } from '../catalog/index.js';
import { createClient, tagSource } from './client.js';
import type { ResolvedEvent, RegistryLogEvent } from './events.js';
import { resolve, resolutionFacts, type Resolution, type TagSource } from './resolve.js';

/** A catalog name: flavor and variant, optionally pinned to a release. */
export interface CatalogName {
  flavor: string;
  variant: string;
  version?: string | undefined;
  k3s?: string | undefined;
  model?: string | undefined;
  kind?: ImageKind | undefined;
}

/**
 * What to operate on: a full reference (`'quay.io/kairos/core-opensuse:v1.4.0'` or parsed), or
 * a flavor and variant the catalog names (asking the registry for the newest release when needed).
 */
export type ImageSpec = string | { reference: Reference | string } | CatalogName;

export interface OperationOptions<E> {
  /** Replaces the catalogs' registries (quay.io, ghcr.io) for catalog names: mirrors, a local registry. */
  registry?: string | undefined;
  plainHttp?: boolean | undefined;
  /** `amd64`, `arm64`; default: the host's, or what the flavor ships. */
  arch?: string | undefined;
  /** The host architecture to prefer (default: this machine's). */
  hostArch?: string | undefined;
  /** Environment for credentials (`DOCKER_CONFIG`) and engines (`DOCKER_HOST`); default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** A configured client (credentials, retries); default: one from `plainHttp` and `env`. */
  client?: RegistryClient | undefined;
  signal?: AbortSignal | undefined;
  /** Progress as typed events; nothing is reported (or printed) without it. */
  onEvent?: ((event: E) => void) | undefined;
}

export function isCatalogName(image: ImageSpec): image is CatalogName {
  return typeof image !== 'string' && !('reference' in image);
}

/** The parsed reference of a spec that names one, else undefined. */
export function referenceOf(image: ImageSpec): Reference | undefined {
  if (typeof image === 'string') return parseReference(image);
  if ('reference' in image) return typeof image.reference === 'string' ? parseReference(image.reference) : image.reference;
  return undefined;
}

export function platformFor(arch: string | undefined, hostArch: string): Platform {
  return { os: 'linux', architecture: arch ?? hostArch };
}

export interface ResolvedTarget {
  reference: Reference;
  platform: Platform;
  resolution?: Resolution | undefined;
}

/**
 * A full reference as given, or the catalog's reference (asking `tags` when the catalog cannot
 * name it alone). Reports `resolved`.
 */
export async function resolveTarget(opts: {
  image: ImageSpec;
  arch?: string | undefined;
  registry?: string | undefined;
  hostArch?: string | undefined;
  tags: TagSource | undefined;
  signal?: AbortSignal | undefined;
  kind?: ImageKind | undefined;
  source?: ResolvedEvent['source'] | undefined;
  emit: (e: ResolvedEvent) => void;
}): Promise<ResolvedTarget> {
  opts.signal?.throwIfAborted();
  const host = opts.hostArch ?? detectHostArch();
  const given = referenceOf(opts.image);
  if (given !== undefined) {
    const reference = given.tag === undefined && given.digest === undefined ? { ...given, tag: 'latest' } : given;
    opts.emit({ type: 'resolved', reference: formatReference(reference), source: opts.source ?? 'reference' });
    return { reference, platform: platformFor(opts.arch, host) };
  }
  const image = opts.image as CatalogName;
  const r = await resolve({
    flavor: image.flavor, variant: image.variant, version: image.version, k3s: image.k3s, model: image.model,
    kind: opts.kind ?? image.kind ?? 'image', arch: opts.arch, registry: opts.registry, hostArch: host, tags: opts.tags, signal: opts.signal,
  });
  opts.emit({ type: 'resolved', reference: formatReference(r.reference), source: opts.source ?? 'catalog', resolution: resolutionFacts(r) });
  return { reference: r.reference, platform: platformFor(r.arch, host), resolution: r };
}

/**
 * The registry client of one operation: the caller's, or one made on first use (an operation
 * served from the cache never makes one). Its request events become `registry` events.
 */
export function lazyClient(opts: Pick<OperationOptions<RegistryLogEvent>, 'client' | 'plainHttp' | 'env'>, emit: (e: RegistryLogEvent) => void): {
  get(): RegistryClient;
  made(): boolean;
  tags(): TagSource;
} {
  let client = opts.client;
  const get = (): RegistryClient => {
    client ??= createClient({ plainHttp: opts.plainHttp, env: opts.env, onEvent: (event) => emit({ type: 'registry', event }) });
    return client;
  };
  return {
    get,
    made: () => client !== undefined,
    // Asked lazily: a catalog name with a version needs no registry at all.
    tags: () => ({ listTags: (repo, signal) => tagSource(get()).listTags(repo, signal) }),
  };
}
