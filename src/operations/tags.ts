/**
 * A repository's tags, classified (release / pre-release / artifact / noise) and judged by the
 * versioning policy, newest first. For an image named positionally: the repositories its OS
 * catalog names (for Kairos every repository its naming eras use, with only that flavor's tags
 * kept where a repository is shared), judged together — the latest release branch is the
 * flavor's, across every repository it has been published in — and only when Kairos verdicts
 * apply to that OS. A repository named by itself is judged alone.
 */
import { catalogFor, catalogNamedBy } from '../catalog/index.js';
import { KairosImgError } from '../errors.js';
import { evaluateAll, evaluateFlavor, isReleaseTag, k8sVersionOf, parseTag, type TagClass, type TagEntry, type VerdictStatus } from '../policy/index.js';
import { repositoryName, type Reference } from '../reference/reference.js';
import type { RegistryClient } from '../registry/index.js';
import { tagSource } from './client.js';

export interface TagRow {
  repository: string;
  tag: string;
  class: TagClass;
  version?: string | undefined;
  k3s?: string | undefined;
  status?: VerdictStatus | undefined;
  reason?: string | undefined;
  upgradeTo?: string | undefined;
  /** The repository of `upgradeTo` when it is not the tag's own. */
  upgradeRepository?: string | undefined;
}

export interface TagListing {
  repositories: string[];
  tags: TagRow[];
  hidden: number;
}

export type TagsTarget =
  | { repository: Pick<Reference, 'registry' | 'repository'> }
  | { flavor: string; variant: string; arch?: string | undefined; model?: string | undefined; flavorRelease?: string | undefined; os?: string | undefined };

export interface ListTagsOptions {
  client: RegistryClient;
  target: TagsTarget;
  registry?: string | undefined;
  hostArch?: string | undefined;
  all?: boolean | undefined;
  /** Judge tags by the Kairos versioning policy; by default for repositories and for catalogs it applies to (not Talos). */
  verdicts?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

function row(repository: string, tag: string, kind: TagClass, verdict: { status: VerdictStatus; reason: string; upgradeTo?: string; upgradeRepository?: string } | undefined, verdicts: boolean): TagRow {
  const parsed = parseTag(tag);
  return {
    repository,
    tag,
    class: kind,
    ...(isReleaseTag(parsed) ? { version: parsed.version, k3s: k8sVersionOf(parsed) } : {}),
    ...(verdict === undefined || !verdicts ? {} : { status: verdict.status, reason: verdict.reason, upgradeTo: verdict.upgradeTo, upgradeRepository: verdict.upgradeRepository }),
  };
}

function rows(repository: string, tags: readonly string[], verdicts: boolean): TagRow[] {
  return evaluateAll(tags).map((e) => row(repository, e.tag, e.kind, e.verdict, verdicts));
}

export interface FlavorTags {
  /** Every repository that exists, with the flavor's tags in it (noise included). */
  lists: Array<{ repository: string; tags: string[] }>;
  /** The repositories asked for (some may not exist). */
  asked: string[];
  /** Arch and model for tags that spell neither (the flavor's defaults). */
  defaults?: { arch: string; model: string } | undefined;
  /** Whether Kairos verdicts apply to this OS. */
  verdicts: boolean;
}

/** The tags of a catalog-named image across the repositories its catalog names (the flavor's own tags of shared ones). */
export async function flavorTags(opts: {
  client: RegistryClient;
  image: { flavor: string; variant: string; arch?: string | undefined; model?: string | undefined; flavorRelease?: string | undefined; os?: string | undefined };
  registry?: string | undefined;
  /** The organisation to look in instead of the catalog's (`kairos`): where the image at hand lives. */
  namespace?: string | undefined;
  hostArch?: string | undefined;
  signal?: AbortSignal | undefined;
}): Promise<FlavorTags> {
  const { os, ...image } = opts.image;
  const catalog = os === undefined ? catalogNamedBy(image.flavor) : catalogFor(os);
  const request = { ...image, registry: opts.registry, hostArch: opts.hostArch };
  const namespace = opts.namespace;
  const repositories = (await catalog.tagRepositories(request)).map((r) => namespace === undefined ? r : {
    ...r, repository: { ...r.repository, repository: `${namespace}/${r.repository.repository.slice(r.repository.repository.lastIndexOf('/') + 1)}` },
  });
  const defaults = catalog.lineDefaults === undefined ? undefined : await catalog.lineDefaults(request);
  const source = tagSource(opts.client);
  const lists: FlavorTags['lists'] = [];
  for (const { repository, owns } of repositories) {
    const tags = await source.listTags(repository, opts.signal);
    if (tags === undefined) continue;
    lists.push({ repository: repositoryName(repository), tags: owns === undefined ? tags : tags.filter(owns) });
  }
  return { lists, asked: repositories.map((r) => repositoryName(r.repository)), defaults, verdicts: catalog.kairosVerdicts };
}

/** The entries of a flavor's listing, for the flavor-wide judgement. */
export function entriesOf(lists: FlavorTags['lists']): TagEntry[] {
  return lists.flatMap((l) => l.tags.map((tag) => ({ repository: l.repository, tag })));
}

export async function listTags(opts: ListTagsOptions): Promise<TagListing> {
  let all: TagRow[];
  let repositories: string[];
  if ('repository' in opts.target) {
    const name = repositoryName(opts.target.repository);
    const tags = await opts.client.listTags(opts.target.repository, { signal: opts.signal });
    all = rows(name, tags, opts.verdicts ?? true);
    repositories = [name];
  } else {
    const found = await flavorTags({ client: opts.client, image: opts.target, registry: opts.registry, hostArch: opts.hostArch, signal: opts.signal });
    if (found.lists.length === 0) {
      const registry = found.asked[0]?.split('/')[0] ?? 'the registry';
      throw new KairosImgError('NAME_UNKNOWN', `no repository of ${opts.target.flavor} ${opts.target.variant} exists on ${registry}`, {
        hint: `looked for ${found.asked.join(', ')}; check --registry`,
      });
    }
    const verdicts = opts.verdicts ?? found.verdicts;
    all = evaluateFlavor(entriesOf(found.lists), found.defaults ?? {}).map((e) => row(e.repository, e.tag, e.kind, e.verdict, verdicts));
    repositories = found.lists.map((l) => l.repository);
  }
  const shown = opts.all === true ? all : all.filter((r) => r.class !== 'noise');
  return { repositories, tags: shown, hidden: all.length - shown.length };
}

/**
 * The listing `verify` judges a tag in: the tags of the reference's own repository and of every
 * repository of the flavors it was identified as (on the reference's registry), so that the
 * latest release branch is the flavor's.
 */
export async function flavorListing(opts: {
  client: RegistryClient;
  repository: string;
  tags: readonly string[];
  flavors: readonly string[];
  variant: string;
  arch?: string | undefined;
  model?: string | undefined;
  registry: string;
  signal?: AbortSignal | undefined;
}): Promise<{ repository: string; entries: TagEntry[]; options: { arch?: string | undefined; model?: string | undefined } }> {
  const lists = new Map<string, Set<string>>();
  let defaults: { arch?: string | undefined; model?: string | undefined } = { arch: opts.arch, model: opts.model };
  // The flavor's repositories in the image's own organisation, on its registry.
  const path = opts.repository.slice(opts.repository.indexOf('/') + 1);
  const namespace = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : undefined;
  for (const flavor of opts.flavors) {
    const found = await flavorTags({
      client: opts.client, image: { flavor, variant: opts.variant, arch: opts.arch, model: opts.model }, registry: opts.registry, namespace, signal: opts.signal,
    });
    defaults = { arch: opts.arch ?? found.defaults?.arch, model: opts.model ?? found.defaults?.model };
    for (const l of found.lists) {
      const set = lists.get(l.repository) ?? new Set<string>();
      for (const t of l.tags) set.add(t);
      lists.set(l.repository, set);
    }
  }
  // The image's own repository when the flavor's listing does not cover it (a repository of another naming).
  if (!lists.has(opts.repository)) lists.set(opts.repository, new Set(opts.tags));
  return { repository: opts.repository, entries: [...lists].flatMap(([repository, tags]) => [...tags].map((tag) => ({ repository, tag }))), options: defaults };
}
