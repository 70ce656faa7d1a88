/**
 * Kairos as an `OsCatalog`: `<flavor> <variant>` names an image; resolution is offline when the
 * version (and a standard image's k3s version) is given, otherwise the newest release of the
 * newest naming era that has one, asked through the injected tag source (the catalog says where
 * to look and how tags look; the registry says what exists).
 */
import { KairosImgError, usageError } from '../../errors.js';
import { formatTag, imageOf, isReleaseTag, k8sOf, parseTag, type ReleaseTag } from '../../policy/tag.js';
import { repositoryName, type Reference } from '../../reference/reference.js';
import type { CatalogImage, CatalogRequest, OsCatalog, Resolution, TagRepository } from '../os.js';
import { newestRelease, type TagLists } from './discover.js';
import { loadCatalog } from './load.js';
import { chooseArch, chooseModel, eraFor, findFlavor, normalizeVersion, requestedKubernetes, resolveImage, tagSearches, type SearchRequest } from './resolve.js';
import type { Catalog } from './types.js';

/** The newest release through the tag source, stopping at the newest era that has one. */
async function discover(catalog: Catalog, req: CatalogRequest, base: SearchRequest & { kind: 'image' | 'artifact' }): Promise<Resolution> {
  // Validate what we can offline before any network traffic (bad flavor → usage error, not a 404).
  const version = req.version === undefined ? undefined : normalizeVersion(req.version);
  const asked = requestedKubernetes(req);
  let searches = tagSearches(catalog, { ...base, uki: req.uki === true });
  if (version !== undefined) {
    const era = eraFor(catalog, version);
    searches = searches.filter((s) => s.era.name === era.name);
  }
  if (req.tags === undefined) {
    const missing = version === undefined ? '--version' : asked.version === undefined && needsKubernetes(catalog, req.variant) ? '--k3s' : '--flavor-release';
    throw usageError('MISSING_INPUT', `${missing} is needed to name the image offline`, 'give it, or let kairos-img ask the registry');
  }
  const lists = new Map<string, string[] | undefined>();
  const asked2: string[] = [];
  // One era at a time, newest first: all of its searches (one per flavor release) compete.
  const eras = [...new Set(searches.map((s) => s.era.name))];
  for (const eraName of eras) {
    const ofEra = searches.filter((s) => s.era.name === eraName);
    for (const s of ofEra) {
      const name = repositoryName(s.repository);
      if (!lists.has(name)) {
        asked2.push(name);
        lists.set(name, await req.tags.listTags(s.repository, req.signal));
      }
    }
    const found = newestRelease(ofEra, lists as TagLists, { version, k8s: asked.version });
    if (found !== undefined) {
      const resolved = resolveImage(catalog, {
        ...base, version: found.version, flavorRelease: found.parsed.flavorRelease ?? req.flavorRelease,
        ...kubernetesOf(found.parsed), uki: req.uki,
      });
      if (resolved.image.tag !== found.tag) {
        throw new KairosImgError('CATALOG_MISMATCH', `the catalog names ${resolved.image.tag} for the tag ${found.tag} it found`, { hint: 'this is a bug in flavors/kairos.yaml; please report it' });
      }
      return { ...resolved, discovered: true };
    }
  }
  const k8sText = asked.version === undefined ? '' : ` with ${asked.distro ?? 'k3s'} ${asked.version}`;
  const what = `${req.flavor} ${req.variant}${req.flavorRelease === undefined ? '' : ` ${req.flavorRelease}`}${version === undefined ? '' : ` ${version}`}${k8sText}`;
  const existing = asked2.filter((n) => lists.get(n) !== undefined);
  throw new KairosImgError('NO_RELEASE_FOUND', `no release of ${what} found in ${asked2.join(', ')}`, {
    hint: existing.length === 0 ? 'none of these repositories exists on that registry; check --registry and the flavor' : `run \`kairos-img tags ${req.flavor} ${req.variant}\` to see what is published`,
    details: { repositories: asked2 },
  });
}

function needsKubernetes(catalog: Catalog, variant: string): boolean {
  return catalog.variants.find((v) => v.name === variant)?.kubernetes !== undefined;
}

/** The `--k3s`/`--k0s` request that names a found tag's Kubernetes version. */
function kubernetesOf(t: ReleaseTag): { k3s?: string; k0s?: string } {
  const k = k8sOf(t);
  if (k === undefined) return {};
  return k.distro === 'k0s' ? { k0s: k.version } : { k3s: k.version };
}

export async function resolveKairos(catalog: Catalog, req: CatalogRequest): Promise<Resolution> {
  const needsK8s = needsKubernetes(catalog, req.variant);
  const base = {
    flavor: req.flavor, variant: req.variant, arch: req.arch, model: req.model, kind: req.kind ?? 'image',
    registry: req.registry, hostArch: req.hostArch, flavorRelease: req.flavorRelease, kubernetes: req.kubernetes,
    k3s: req.k3s, k0s: req.k0s,
  } as const;
  const haveK8s = req.k3s !== undefined || req.k0s !== undefined;
  if (req.version !== undefined && (!needsK8s || haveK8s)) {
    const offline = tryOffline(catalog, { ...base, version: req.version, uki: req.uki });
    // A flavor release the catalog cannot know offline (no pin, none named): ask the registry.
    if (offline !== undefined || req.tags === undefined) return offline ?? { ...resolveImage(catalog, { ...base, version: req.version, uki: req.uki }), discovered: false };
  }
  return discover(catalog, req, base);
}

function tryOffline(catalog: Catalog, req: Parameters<typeof resolveImage>[1]): Resolution | undefined {
  try {
    return { ...resolveImage(catalog, req), discovered: false };
  } catch (e) {
    if (e instanceof KairosImgError && e.code === 'MISSING_INPUT' && e.message.includes('flavor release')) return undefined;
    throw e;
  }
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

/** Arch and model of a flavor's image (requested, else host's, else the flavor's first): for v1 tags, which spell neither. */
export function kairosLineDefaults(catalog: Catalog, image: CatalogImage): { arch: string; model: string } {
  const flavor = findFlavor(catalog, image.flavor);
  const model = chooseModel(flavor, image.model);
  return { arch: chooseArch(flavor, image.arch, image.hostArch, catalog.modelArches[model]), model };
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
    lineDefaults: async (image) => kairosLineDefaults(await load(), image),
  };
}

export const kairosCatalog: OsCatalog = kairosOsCatalog();
