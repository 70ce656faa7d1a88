/**
 * Picks a release from registry tag lists when the user gives no version (or no k3s version):
 * the newest release that is not a pre-release, not an artifact and not noise, in the newest
 * naming era that has any. Pure: the caller lists the repositories that `tagSearches` names.
 * Which tags are this flavor's, the catalog's templates say; what a tag's versions are and how
 * tags order, the policy's tag grammar (`parseTag`, `compareReleaseTags`).
 */
import { repositoryName, type Reference } from '../../reference/reference.js';
import { compareReleaseTags } from '../../policy/order.js';
import type { ReleaseTag } from '../../policy/tag.js';
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
      out.push({ repository: s.repository, tag, version: t.version, k3s: t.k3s, era: s.era.name, parsed: t });
    }
  }
  return out;
}

export function newestRelease(searches: readonly TagSearch[], lists: TagLists, opts: DiscoverOptions = {}): DiscoveredTag | undefined {
  let best: DiscoveredTag | undefined;
  for (const t of discoverTags(searches, lists, opts)) {
    if (opts.version === undefined && t.parsed.kind !== 'release') continue;
    if (best === undefined || compareReleaseTags(t.parsed, best.parsed) < 0) best = t;
  }
  return best;
}
