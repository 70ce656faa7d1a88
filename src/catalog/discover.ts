/**
 * Picks a release from registry tag lists when the user gives no version (or no k3s version):
 * the newest release that is not a pre-release, not an artifact and not noise, in the newest
 * naming era that has any. Pure: the caller lists the repositories that `tagSearches` names.
 */
import { repositoryName, type Reference } from '../reference/reference.js';
import { compareK3s, compareVersions, kairosSemver } from './versions.js';
import type { TagSearch } from './resolve.js';
import semver from 'semver';

export interface DiscoveredTag {
  repository: Reference;
  tag: string;
  version: string;
  k3s?: string | undefined;
  era: string;
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
      const m = s.match(tag);
      if (m === undefined) continue;
      if (opts.version !== undefined && m.version !== opts.version) continue;
      if (opts.k3s !== undefined && m.k3s !== opts.k3s) continue;
      out.push({ repository: s.repository, tag, version: m.version, k3s: m.k3s, era: s.era.name });
    }
  }
  return out;
}

export function newestRelease(searches: readonly TagSearch[], lists: TagLists, opts: DiscoverOptions = {}): DiscoveredTag | undefined {
  const candidates = discoverTags(searches, lists, opts).filter((t) => {
    if (opts.version !== undefined) return true;
    const sv = kairosSemver(t.version);
    return sv !== undefined && semver.prerelease(sv) === null;
  });
  candidates.sort((a, b) => {
    const byVersion = compareVersions(b.version, a.version);
    if (byVersion !== 0) return byVersion;
    if (a.k3s !== undefined && b.k3s !== undefined) return compareK3s(b.k3s, a.k3s);
    return 0;
  });
  return candidates[0];
}
