/**
 * From what a user names (flavor, variant, maybe a version and a k3s version) to one image
 * reference: offline when the catalog has everything, otherwise by asking the registry for the
 * newest release (the catalog says where to look and how tags look; the registry says what exists).
 */
import { KairosImgError, usageError } from '../errors.js';
import { loadCatalog } from '../catalog/load.js';
import { eraFor, normalizeK3sOption, normalizeVersion, resolveImage, tagSearches, type ImageKind, type ResolvedImage } from '../catalog/resolve.js';
import { newestRelease, type TagLists } from '../catalog/discover.js';
import { repositoryName, type Reference } from '../reference/reference.js';
import type { Catalog } from '../catalog/types.js';
import { loadTalosMatrix } from '../catalog/talos/load.js';
import { resolveTalos } from '../catalog/talos/resolve.js';

/** What resolution needs from a registry: a repository's tags, or undefined when it does not exist. */
export interface TagSource {
  listTags(repository: Reference, signal?: AbortSignal): Promise<string[] | undefined>;
}

export interface ResolveOptions {
  flavor: string;
  variant: string;
  version?: string | undefined;
  k3s?: string | undefined;
  arch?: string | undefined;
  model?: string | undefined;
  kind?: ImageKind;
  /** Replaces quay.io (mirrors, the local registry). */
  registry?: string | undefined;
  hostArch?: string | undefined;
  os?: string;
  catalog?: Catalog;
  /** Needed only when the version (or a standard image's k3s version) is not given. */
  tags?: TagSource | undefined;
  signal?: AbortSignal | undefined;
}

export interface Resolution extends ResolvedImage {
  /** True when the registry was asked which release is newest. */
  discovered: boolean;
}

export async function resolve(opts: ResolveOptions): Promise<Resolution> {
  // `talos <image>` arrives as flavor "talos", variant the image (see OTHER_OS_CATALOGS in cli/target.ts).
  if ((opts.os ?? (opts.flavor === 'talos' ? 'talos' : 'kairos')) === 'talos') {
    return resolveTalos(await loadTalosMatrix(), { ...opts, image: opts.variant });
  }
  const catalog = opts.catalog ?? (await loadCatalog(opts.os ?? 'kairos'));
  const variant = catalog.variants.find((v) => v.name === opts.variant);
  const needsK3s = variant?.kubernetes !== undefined;
  const base = {
    flavor: opts.flavor, variant: opts.variant, arch: opts.arch, model: opts.model, kind: opts.kind ?? 'image',
    registry: opts.registry, hostArch: opts.hostArch,
  } as const;
  if (opts.version !== undefined && (!needsK3s || opts.k3s !== undefined)) {
    return { ...resolveImage(catalog, { ...base, version: opts.version, k3s: opts.k3s }), discovered: false };
  }
  // Validate what we can offline before any network traffic (bad flavor → usage error, not a 404).
  const version = opts.version === undefined ? undefined : normalizeVersion(opts.version);
  const k3s = opts.k3s === undefined ? undefined : normalizeK3sOption(opts.k3s);
  let searches = tagSearches(catalog, base);
  if (version !== undefined) {
    const era = eraFor(catalog, version);
    searches = searches.filter((s) => s.era.name === era.name);
  }
  if (opts.tags === undefined) {
    const missing = version === undefined ? '--version' : '--k3s';
    throw usageError('MISSING_INPUT', `${missing} is needed to name the image offline`, 'give it, or let kairos-img ask the registry');
  }
  const lists = new Map<string, string[] | undefined>();
  const asked: string[] = [];
  for (const s of searches) {
    const name = repositoryName(s.repository);
    if (!lists.has(name)) {
      asked.push(name);
      lists.set(name, await opts.tags.listTags(s.repository, opts.signal));
    }
    // Stop at the newest era that has a release: older eras need not be listed.
    const found = newestRelease([s], lists as TagLists, { version, k3s });
    if (found !== undefined) {
      const resolved = resolveImage(catalog, { ...base, version: found.version, k3s: found.k3s });
      if (resolved.image.tag !== found.tag) {
        throw new KairosImgError('CATALOG_MISMATCH', `the catalog names ${resolved.image.tag} for the tag ${found.tag} it found`, { hint: 'this is a bug in flavors/kairos.yaml; please report it' });
      }
      return { ...resolved, discovered: true };
    }
  }
  const what = `${opts.flavor} ${opts.variant}${version === undefined ? '' : ` ${version}`}${k3s === undefined ? '' : ` with k3s ${k3s}`}`;
  const existing = asked.filter((n) => lists.get(n) !== undefined);
  throw new KairosImgError('NO_RELEASE_FOUND', `no release of ${what} found in ${asked.join(', ')}`, {
    hint: existing.length === 0 ? 'none of these repositories exists on that registry; check --registry and the flavor' : `run \`kairos-img tags ${opts.flavor} ${opts.variant}\` to see what is published`,
    details: { repositories: asked },
  });
}

/** The facts of a resolution worth reporting (JSON output, library results). */
export interface ResolutionFacts {
  flavor: string;
  variant: string;
  version: string;
  k3s: string | null;
  arch: string;
  model: string;
  era: string;
  discovered: boolean;
  pin: { os: string; release: string | null } | null;
}

export function resolutionFacts(r: Resolution): ResolutionFacts {
  return {
    flavor: r.flavor, variant: r.variant, version: r.version, k3s: r.k3s ?? null, arch: r.arch, model: r.model, era: r.era,
    discovered: r.discovered, pin: r.pin === undefined ? null : { os: r.pin.os, release: r.pin.release },
  };
}
