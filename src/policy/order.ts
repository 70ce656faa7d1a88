/**
 * Ordering of Kairos tags, newest first, built on the version module's comparators (never on
 * strings): Kairos versions by semver, k3s versions by semver and build number.
 *
 * Semver orders pre-release identifiers that mix letters and digits lexically: `v1.6.0-rc10`
 * sorts *before* (older than) `v1.6.0-rc2`, because "rc10" < "rc2" in ASCII. Only purely numeric
 * identifiers (`rc.10`) compare numerically. We keep semver's rule rather than invent our own;
 * Kairos has not published ten release candidates of one version.
 */
import { compareFlavorReleases, compareK8s, compareKairos, newestFirst } from '../version/index.js';
import { k8sVersionOf, parseTag, type KairosTag, type ReleaseTag } from './tag.js';

const newestKairosFirst = newestFirst(compareKairos);
const newestK8sFirst = newestFirst(compareK8s);
const newestFlavorReleaseFirst = newestFirst(compareFlavorReleases);

/** Orders optional values: absent first, then by `cmp`. */
export function compareOptional(a: string | undefined, b: string | undefined, cmp: (x: string, y: string) => number): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return cmp(a, b);
}

function ascending(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Newest first by Kairos version, then by Kubernetes version (a tag without one first; k3s before
 * k0s), then the rest: flavor release (newest first), variant, arch, model, non-UKI before UKI,
 * images before artifacts.
 */
export function compareReleaseTags(a: ReleaseTag, b: ReleaseTag): number {
  return (
    newestKairosFirst(a.version, b.version) ||
    compareOptional(k8sVersionOf(a), k8sVersionOf(b), newestK8sFirst) ||
    compareOptional(a.flavorRelease, b.flavorRelease, newestFlavorReleaseFirst) ||
    compareOptional(a.variant, b.variant, ascending) ||
    compareOptional(a.arch, b.arch, ascending) ||
    compareOptional(a.model, b.model, ascending) ||
    Number(a.uki === true) - Number(b.uki === true) ||
    Number(a.artifact) - Number(b.artifact) ||
    ascending(a.raw, b.raw)
  );
}

/** Release tags first (newest first), then noise tags in plain name order. */
export function compareParsedTags(a: KairosTag, b: KairosTag): number {
  if (a.kind === 'noise' || b.kind === 'noise') {
    if (a.kind !== 'noise') return -1;
    if (b.kind !== 'noise') return 1;
    return ascending(a.raw, b.raw);
  }
  return compareReleaseTags(a, b);
}

/** Comparator for `Array.prototype.sort` over tag names, newest first. */
export function compareTags(a: string, b: string): number {
  return compareParsedTags(parseTag(a), parseTag(b));
}

/** Tags sorted newest first, each parsed once. */
export function sortTags(tags: readonly string[]): string[] {
  return tags
    .map((raw) => parseTag(raw))
    .sort(compareParsedTags)
    .map((t) => t.raw);
}
