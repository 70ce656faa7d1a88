/**
 * The operating-system catalogs behind one interface, and the lookup that finds the catalog a name
 * belongs to. Resolution, tag listings, `--registry` mirroring and the CLI's positional arguments
 * ask an `OsCatalog`, never an OS by name: a further OS is a data file (flavors/<os>.yaml) plus one
 * module implementing `OsCatalog`, added to `OS_CATALOGS`.
 */
import { usageError } from '../errors.js';
import type { Reference } from '../reference/reference.js';
import { kairosCatalog } from './kairos/catalog.js';
import { nearestName } from './names.js';
import { talosCatalog } from './talos/catalog.js';

export type ImageKind = 'image' | 'artifact';

/** The upstream distribution release an image is pinned to (`ubuntu 22.04`; release null: unpinned). */
export interface UpstreamPin {
  readonly os: string;
  readonly release: string | null;
}

/** One image named by a catalog, whatever the OS (Talos names its images as flavor `talos`, variant the image). */
export interface ResolvedImage {
  reference: Reference;
  /** The reference of the OS image this artifact belongs to (same as reference for images). */
  image: Reference;
  kind: ImageKind;
  era: string;
  flavor: string;
  variant: string;
  version: string;
  arch: string;
  model: string;
  k3s?: string | undefined;
  pin?: UpstreamPin | undefined;
  /** The upstream release the tag names (v2.4.2+ naming). */
  flavorRelease?: string | undefined;
  /** The Kubernetes distribution of a standard image (`k3s`, `k0s`) and its version (canonical `+` form). */
  kubernetes?: string | undefined;
  k8s?: string | undefined;
  /** A trusted-boot (UKI) image. */
  uki?: boolean | undefined;
}

export interface Resolution extends ResolvedImage {
  /** True when the registry was asked which release is newest. */
  discovered: boolean;
}

/** What resolution needs from a registry: a repository's tags, or undefined when it does not exist. */
export interface TagSource {
  listTags(repository: Reference, signal?: AbortSignal): Promise<string[] | undefined>;
}

/** What a user names positionally (`<flavor> <variant>`, `talos <image>`) and the options that narrow it. */
export interface CatalogImage {
  flavor: string;
  variant: string;
  arch?: string | undefined;
  model?: string | undefined;
  /** Only this flavor release (v2.4.2+ naming). */
  flavorRelease?: string | undefined;
  /** Replaces the catalog's registry (mirrors, the local registry). */
  registry?: string | undefined;
  /** The host's architecture, the default when the image ships it. */
  hostArch?: string | undefined;
}

export interface CatalogRequest extends CatalogImage {
  version?: string | undefined;
  k3s?: string | undefined;
  /** A k0s version (standard images that carry k0s). */
  k0s?: string | undefined;
  /** The Kubernetes distribution of a standard image, when no version names it (`k0s`). */
  kubernetes?: string | undefined;
  /** The flavor release in v2.4.2+ tags; default: the flavor's pin, else the newest the registry shows. */
  flavorRelease?: string | undefined;
  /** A trusted-boot (UKI) image. */
  uki?: boolean | undefined;
  kind?: ImageKind | undefined;
  /** Needed only when the request does not name a release the catalog can spell offline. */
  tags?: TagSource | undefined;
  signal?: AbortSignal | undefined;
}

/** A repository `tags <name> <variant>` lists, and which of its tags belong to the image named. */
export interface TagRepository {
  readonly repository: Reference;
  /** Keeps the named image's tags where a repository is shared; every tag when absent. */
  readonly owns?: ((tag: string) => boolean) | undefined;
}

/** How `<first> <second>` names an image of the OS. */
export interface PositionalNaming {
  /**
   * The first word that names this OS, the image following (`talos installer`). Absent for the
   * default OS, whose first word is one of its flavors and the second a variant (`ubuntu core`).
   */
  readonly word?: string | undefined;
  /** The usage error's message when the second word is missing. */
  missing(first: string): string;
}

export interface OsCatalog {
  /** The OS (`kairos`, `talos`): its data file is flavors/<name>.yaml. */
  readonly name: string;
  readonly positional: PositionalNaming;
  /** Whether the Kairos versioning policy's verdicts apply to its tags. */
  readonly kairosVerdicts: boolean;
  /** The registries it publishes on (quay.io, ghcr.io): what `--registry` stands in for. */
  registries(): Promise<string[]>;
  /** One reference: offline when the request names a release the catalog can spell, else the newest through `req.tags`. */
  resolve(req: CatalogRequest): Promise<Resolution>;
  /** The repositories `tags` lists for an image; unknown names are usage errors. */
  tagRepositories(image: CatalogImage): Promise<TagRepository[]>;
  /**
   * Arch and model of the image, for tags that do not spell them (the flavor-wide judgement of
   * tags and `verify`); undefined when the OS does not judge tags.
   */
  lineDefaults?(image: CatalogImage): Promise<{ arch: string; model: string }>;
}

/** Every OS catalog; the one without a positional word is the default (Kairos). */
export const OS_CATALOGS: readonly OsCatalog[] = [kairosCatalog, talosCatalog];

/** The catalog of an OS by its name (`kairos`, `talos`). */
export function catalogFor(name: string): OsCatalog {
  const found = OS_CATALOGS.find((c) => c.name === name);
  if (found !== undefined) return found;
  const names = OS_CATALOGS.map((c) => c.name);
  const near = nearestName(name, names);
  throw usageError('UNKNOWN_OS', `unknown operating system "${name}"${near === undefined ? '' : `; did you mean ${near}?`}`, `known: ${names.join(', ')}`);
}

/** The catalog a first positional word belongs to: the OS it names (`talos`), else the default OS, whose flavor it is. */
export function catalogNamedBy(first: string): OsCatalog {
  const named = OS_CATALOGS.find((c) => c.positional.word === first);
  if (named !== undefined) return named;
  const fallback = OS_CATALOGS.find((c) => c.positional.word === undefined);
  if (fallback === undefined) throw new TypeError('no default OS catalog');
  return fallback;
}
