/**
 * What every image operation shares: which image (a reference string, a parsed reference, or a
 * catalog name), where the registry is, the abort signal and the event sink; and the first step
 * of each, naming the image.
 */
import { hostArch as detectHostArch, type Platform } from '../oci/index.js';
import { formatReference, parseReference, type Reference } from '../reference/reference.js';
import type { RegistryClient } from '../registry/index.js';
import type { ImageKind } from '../catalog/index.js';
import { saveImage } from '../engine/docker.js';
import { usageError } from '../errors.js';
import { formatTransport, openSource, parseTransport, registrySource, type ImageSource, type SourceTransport } from '../store/sources/index.js';
import { createClient, getManifestExplained, tagSource } from './client.js';
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
 * What to operate on: a full reference (`'quay.io/kairos/core-opensuse:v1.4.0'` or parsed), a
 * flavor and variant the catalog names (asking the registry for the newest release when needed),
 * or an image source without a registry (`'docker-archive:./img.tar'`, `'oci:./dir:v1'`,
 * `'oci-archive:./img.tar'`, `'docker-daemon:name:tag'`, as a string or parsed).
 */
export type ImageSpec = string | { reference: Reference | string } | CatalogName | { source: SourceTransport | string };

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
  return typeof image !== 'string' && !('reference' in image) && !('source' in image);
}

function parseSpecString(text: string): { reference: Reference } | { source: SourceTransport } {
  const t = parseTransport(text);
  if (t === undefined) return { reference: parseReference(text) };
  return t.kind === 'docker' ? { reference: parseReference(t.reference) } : { source: t };
}

/** The image source (not a registry) a spec names, else undefined. */
export function sourceOf(image: ImageSpec): SourceTransport | undefined {
  if (typeof image === 'string') {
    const p = parseSpecString(image);
    return 'source' in p ? p.source : undefined;
  }
  if (!('source' in image)) return undefined;
  if (typeof image.source !== 'string') return image.source;
  const p = parseSpecString(image.source);
  if ('source' in p) return p.source;
  return undefined;
}

/** The parsed reference of a spec that names one, else undefined. */
export function referenceOf(image: ImageSpec): Reference | undefined {
  if (typeof image === 'string') {
    const p = parseSpecString(image);
    return 'reference' in p ? p.reference : undefined;
  }
  if ('reference' in image) return typeof image.reference === 'string' ? parseSpecReference(image.reference) : image.reference;
  return undefined;
}

function parseSpecReference(text: string): Reference {
  const t = parseTransport(text);
  return t?.kind === 'docker' ? parseReference(t.reference) : parseReference(text);
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
  const transport = given === undefined ? sourceOf(opts.image) : undefined;
  if (transport !== undefined) {
    throw usageError('SOURCE_NOT_SUPPORTED', `${formatTransport(transport)}: this command (or option: --to docker, --via docker|luet) reads images from a registry only`,
      'pull the image from its source into the cache or a layout first (kairos-img pull SOURCE --to oci:DIR), or use the native path');
  }
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

export interface OpenedImage extends ResolvedTarget {
  source: ImageSource;
  /** What reports call the image: the reference (registry), else the source (`docker-archive:/abs/x.tar`). */
  name: string;
  /** The registry reference, or the name the image carries inside an archive or layout. */
  reference: Reference;
}

/**
 * The first step of every operation that reads an image: the image source the spec names (an
 * archive, a layout, the engine), or the registry image it resolves to. The caller closes it.
 */
export async function openImage(opts: {
  image: ImageSpec;
  arch?: string | undefined;
  registry?: string | undefined;
  hostArch?: string | undefined;
  tags: TagSource | undefined;
  client: () => RegistryClient;
  /** Where a compressed archive or the engine's save stream is spooled (the cache directory). */
  spoolDir: string;
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
  kind?: ImageKind | undefined;
  emit: (e: ResolvedEvent) => void;
}): Promise<OpenedImage> {
  const transport = sourceOf(opts.image);
  if (transport !== undefined) {
    opts.signal?.throwIfAborted();
    const source = await openSource({
      transport, spoolDir: opts.spoolDir, signal: opts.signal,
      save: (name, signal) => saveImage({ name, env: opts.env, signal }),
    });
    opts.emit({ type: 'resolved', reference: source.label, source: 'transport' });
    const tag = 'name' in transport && transport.name !== undefined && !transport.name.includes('/') && !transport.name.includes(':') ? transport.name : undefined;
    // A file source without a name of its own still needs one for the cache and layouts: its tag or `latest`.
    const reference = source.reference ?? { registry: 'localhost', repository: 'image', tag: tag ?? 'latest' };
    return { source, name: source.label, reference, platform: platformFor(opts.arch, opts.hostArch ?? detectHostArch()) };
  }
  const target = await resolveTarget({ ...opts, tags: opts.tags });
  const ref = target.reference;
  const source = registrySource({ client: opts.client, reference: ref, getManifest: (o) => getManifestExplained(opts.client(), ref, o) });
  return { ...target, source, name: formatReference(ref) };
}

/** openImage, then `use`, then the source closed whatever happened (a spooled archive removed). */
export async function withImage<T>(opts: Parameters<typeof openImage>[0], use: (img: OpenedImage) => Promise<T>): Promise<T> {
  const img = await openImage(opts);
  try {
    return await use(img);
  } finally {
    await img.source.close();
  }
}

/**
 * A signature requirement holds for registry images: cosign signs the registry's manifest digest,
 * and the signatures live in the registry. Asked of an archive or a layout it is a usage error.
 */
export function signatureRequirementFor<R>(img: Pick<OpenedImage, 'source'>, requirement: R | undefined): R | undefined {
  if (requirement !== undefined && img.source.kind !== 'registry') {
    throw usageError('SOURCE_NOT_SUPPORTED', `${img.source.label}: signatures are checked on registry images (cosign signs the registry's manifest digest)`,
      'verify the image in the registry it came from, or leave the signature options out');
  }
  return requirement;
}
