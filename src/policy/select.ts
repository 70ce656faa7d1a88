/**
 * Picking tags out of a repository's tag list: the newest release (what `pull` uses without
 * `--version`) and the tags nearest to one that does not exist (for "tag not found" errors). Pure.
 */
import { distance } from 'fastest-levenshtein';
import { semverPackage as semver } from '../lazy-packages.js';
import { KairosImgError } from '../errors.js';
import { k3sSelects, parseK3sSelector } from '../version/k3s.js';
import { compareParsedTags, compareReleaseTags } from './order.js';
import { parseTag, type ReleaseTag, type Variant } from './tag.js';
import { variantOf } from './rules.js';

export interface NewestReleaseOptions {
  /**
   * `'newest'`: the newest k3s published for the release (standard images only). A version picks
   * k3s: `v1.26.1+k3s1` (also `-k3s1`, without `v`), `v1.26.1` (newest build), `v1.26` (newest
   * patch of that minor); then the newest release that publishes a match. Absent: no k3s
   * constraint (a core tag ranks before a standard one of the same release).
   */
  readonly k3s?: 'newest' | string;
  readonly variant?: Variant;
  /** The line filters apply only to tags that spell the field out (v2.4.2+ naming). */
  readonly flavorRelease?: string;
  readonly arch?: string;
  readonly model?: string;
}

type K3sMatcher = (k3s: string | undefined) => boolean;

function k3sMatcher(selector: string | undefined): K3sMatcher {
  if (selector === undefined) return () => true;
  if (selector === 'newest') return (k3s) => k3s !== undefined;
  const want = parseK3sSelector(selector);
  if (want === undefined) {
    throw new KairosImgError('BAD_K3S_VERSION', `"${selector}" is not a k3s version`, {
      hint: 'give a k3s version like v1.26.1+k3s1, v1.26.1 or v1.26, or "newest"',
    });
  }
  return (k3s) => k3s !== undefined && k3sSelects(want, k3s);
}

function matchesLine(tag: ReleaseTag, opts: NewestReleaseOptions): boolean {
  if (opts.variant !== undefined && variantOf(tag) !== opts.variant) return false;
  if (opts.flavorRelease !== undefined && tag.flavorRelease !== undefined && tag.flavorRelease !== opts.flavorRelease) return false;
  if (opts.arch !== undefined && tag.arch !== undefined && tag.arch !== opts.arch) return false;
  if (opts.model !== undefined && tag.model !== undefined && tag.model !== opts.model) return false;
  return true;
}

/** The newest release OS-image tag (never a pre-release, artifact or noise tag) matching `opts`. */
export function newestRelease(tags: readonly string[], opts: NewestReleaseOptions = {}): string | undefined {
  const matchK3s = k3sMatcher(opts.k3s);
  let best: ReleaseTag | undefined;
  for (const raw of tags) {
    const t = parseTag(raw);
    if (t.kind !== 'release' || t.artifact) continue;
    if (!matchesLine(t, opts) || !matchK3s(t.k3s)) continue;
    if (best === undefined || compareReleaseTags(t, best) < 0) best = t;
  }
  return best?.raw;
}

/**
 * Up to `n` existing tags closest to `tag`: first those of the same Kairos version, then the
 * others, each group by edit distance (ties newest first). Noise tags are never suggested.
 */
export function nearestTags(tag: string, tags: readonly string[], n = 5): string[] {
  const wanted = parseTag(tag);
  const version = wanted.kind === 'noise' ? undefined : wanted.semver;
  return tags
    .filter((raw) => raw !== tag)
    .map((raw) => parseTag(raw))
    .filter((t): t is ReleaseTag => t.kind !== 'noise')
    .map((t) => ({
      t,
      tier: version !== undefined && semver().eq(t.semver, version) ? 0 : 1,
      d: distance(tag, t.raw),
    }))
    .sort((a, b) => a.tier - b.tier || a.d - b.d || compareParsedTags(a.t, b.t))
    .slice(0, Math.max(0, n))
    .map((x) => x.t.raw);
}
