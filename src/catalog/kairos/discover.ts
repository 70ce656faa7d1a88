/**
 * Picks a release from registry tag lists when the user gives no version (or no k3s version, or
 * no flavor release): the newest release that is not a pre-release, not an artifact and not noise,
 * in the newest naming era that has any; of that release the newest flavor release, then the
 * newest Kubernetes version. Pure: the caller lists the repositories that `tagSearches` names.
 * Which tags are this flavor's, the catalog's templates say; what a tag's versions are and how
 * versions order, the policy's tag grammar and the version module.
 */
import { repositoryName, type Reference } from '../../reference/reference.js';
import { k8sVersionOf, type ReleaseTag } from '../../policy/tag.js';
import { compareOptional } from '../../policy/order.js';
import { compareFlavorReleases, compareK8s, compareKairos } from '../../version/index.js';
import type { TagSearch } from './resolve.js';

export interface DiscoveredTag {
  repository: Reference;
  tag: string;
  version: string;
  k3s?: string | undefined;
  era: string;
  /** The tag as the policy's grammar reads it. */
  parsed: ReleaseTag;
}

export interface DiscoverOptions {
  /** Only this Kairos version (pre-releases allowed when named explicitly). */
  version?: string | undefined;
  /** Only this k3s version (canonical `+` form). */
  k3s?: string | undefined;
  /** Only this Kubernetes version, any distribution (canonical `+` form). */
  k8s?: string | undefined;
}

/** Tag lists keyed by `registry/repository`; undefined when the repository does not exist. */
export type TagLists = ReadonlyMap<string, readonly string[] | undefined>;

export function discoverTags(searches: readonly TagSearch[], lists: TagLists, opts: DiscoverOptions = {}): DiscoveredTag[] {
  const out: DiscoveredTag[] = [];
  for (const s of searches) {
    for (const tag of lists.get(repositoryName(s.repository)) ?? []) {
      const t = s.match(tag);
      if (t === undefined) continue;
      if (opts.version !== undefined && t.version !== opts.version) continue;
      if (opts.k3s !== undefined && t.k3s !== opts.k3s) continue;
      if (opts.k8s !== undefined && k8sVersionOf(t) !== opts.k8s) continue;
      out.push({ repository: s.repository, tag, version: t.version, k3s: t.k3s, era: s.era.name, parsed: t });
    }
  }
  return out;
}

/** Ascending "goodness": Kairos version, then flavor release, then Kubernetes version; core before UKI. */
function better(a: ReleaseTag, b: ReleaseTag): number {
  return compareKairos(a.version, b.version)
    || compareOptional(a.flavorRelease, b.flavorRelease, compareFlavorReleases)
    || compareOptional(k8sVersionOf(a), k8sVersionOf(b), compareK8s)
    || Number(b.uki === true) - Number(a.uki === true)
    || (a.raw < b.raw ? 1 : a.raw > b.raw ? -1 : 0);
}

export function newestRelease(searches: readonly TagSearch[], lists: TagLists, opts: DiscoverOptions = {}): DiscoveredTag | undefined {
  let best: DiscoveredTag | undefined;
  for (const t of discoverTags(searches, lists, opts)) {
    if (opts.version === undefined && t.parsed.kind !== 'release') continue;
    if (best === undefined || better(t.parsed, best.parsed) > 0) best = t;
  }
  return best;
}
