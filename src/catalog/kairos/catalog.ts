/**
 * Kairos as an `OsCatalog`: `<flavor> <variant>` names an image; resolution is offline when the
 * version (and a standard image's k3s version) is given, otherwise the newest release of the
 * newest naming era that has one, asked through the injected tag source (the catalog says where
 * to look and how tags look; the registry says what exists).
 */
import { KairosImgError, usageError } from '../../errors.js';
import { formatTag, imageOf, isReleaseTag, parseTag } from '../../policy/tag.js';
import { repositoryName, type Reference } from '../../reference/reference.js';
import type { CatalogImage, CatalogRequest, OsCatalog, Resolution, TagRepository } from '../os.js';
import { newestRelease, type TagLists } from './discover.js';
import { loadCatalog } from './load.js';
import { eraFor, normalizeK3sOption, normalizeVersion, resolveImage, tagSearches } from './resolve.js';
import type { Catalog } from './types.js';

/** The newest release through the tag source, stopping at the newest era that has one. */
async function discover(catalog: Catalog, req: CatalogRequest, base: CatalogImage & { kind: 'image' | 'artifact' }): Promise<Resolution> {
  // Validate what we can offline before any network traffic (bad flavor → usage error, not a 404).
  const version = req.version === undefined ? undefined : normalizeVersion(req.version);
  const k3s = req.k3s === undefined ? undefined : normalizeK3sOption(req.k3s);
  let searches = tagSearches(catalog, base);
  if (version !== undefined) {
    const era = eraFor(catalog, version);
    searches = searches.filter((s) => s.era.name === era.name);
  }
  if (req.tags === undefined) {
    const missing = version === undefined ? '--version' : '--k3s';
    throw usageError('MISSING_INPUT', `${missing} is needed to name the image offline`, 'give it, or let kairos-img ask the registry');
  }
  const lists = new Map<string, string[] | undefined>();
  const asked: string[] = [];
  for (const s of searches) {
    const name = repositoryName(s.repository);
    if (!lists.has(name)) {
      asked.push(name);
      lists.set(name, await req.tags.listTags(s.repository, req.signal));
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
  const what = `${req.flavor} ${req.variant}${version === undefined ? '' : ` ${version}`}${k3s === undefined ? '' : ` with k3s ${k3s}`}`;
  const existing = asked.filter((n) => lists.get(n) !== undefined);
  throw new KairosImgError('NO_RELEASE_FOUND', `no release of ${what} found in ${asked.join(', ')}`, {
    hint: existing.length === 0 ? 'none of these repositories exists on that registry; check --registry and the flavor' : `run \`kairos-img tags ${req.flavor} ${req.variant}\` to see what is published`,
    details: { repositories: asked },
  });
}

export async function resolveKairos(catalog: Catalog, req: CatalogRequest): Promise<Resolution> {
  const variant = catalog.variants.find((v) => v.name === req.variant);
  const needsK3s = variant?.kubernetes !== undefined;
  const base = {
    flavor: req.flavor, variant: req.variant, arch: req.arch, model: req.model, kind: req.kind ?? 'image',
    registry: req.registry, hostArch: req.hostArch,
  } as const;
  if (req.version !== undefined && (!needsK3s || req.k3s !== undefined)) {
    return { ...resolveImage(catalog, { ...base, version: req.version, k3s: req.k3s }), discovered: false };
  }
  return discover(catalog, req, base);
}

/**
 * Every repository the flavor's naming eras use; where one is shared (v2.4.2+ family
 * repositories), only the tags shaped like this flavor's are its own. Noise tags are kept (for `--all`).
 */
export function kairosTagRepositories(catalog: Catalog, image: CatalogImage): TagRepository[] {
  const byRepo = new Map<string, { repository: Reference; shapes: Array<(tag: string) => boolean> }>();
  for (const s of tagSearches(catalog, image)) {
    const name = repositoryName(s.repository);
    const entry = byRepo.get(name) ?? { repository: s.repository, shapes: [] };
    entry.shapes.push(s.matchShape);
    byRepo.set(name, entry);
  }
  return [...byRepo.values()].map(({ repository, shapes }) => ({
    repository,
    owns: (tag: string) => {
      const t = parseTag(tag);
      if (!isReleaseTag(t)) return true;
      const asImage = formatTag(imageOf(t));
      return shapes.some((fits) => fits(asImage));
    },
  }));
}

/** The Kairos catalog over the catalog `load` gives (flavors/kairos.yaml by default). */
export function kairosOsCatalog(load: () => Promise<Catalog> = () => loadCatalog('kairos')): OsCatalog {
  return {
    name: 'kairos',
    positional: { missing: (flavor) => `name the variant after the flavor: ${flavor} core or ${flavor} standard` },
    kairosVerdicts: true,
    registries: async () => [(await load()).registry],
    resolve: async (req) => resolveKairos(await load(), req),
    tagRepositories: async (image) => kairosTagRepositories(await load(), image),
  };
}

export const kairosCatalog: OsCatalog = kairosOsCatalog();
