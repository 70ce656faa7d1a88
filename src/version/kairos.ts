/**
 * Kairos versions: `v` + a semantic version (`v1.5.1`, `v2.0.0-alpha3`), and release ranges over
 * them. Pure. Ordering is semver's (the `semver` package); this module adds only the leading `v`
 * Kairos writes and the range shape the catalogs use. Talos writes its releases the same way
 * (`v1.3.7`) and uses these functions too.
 */
import { semverPackage as semver } from '../lazy-packages.js';

/** A pre-release as Kairos writes it (`rc1`, `alpha3`, `beta.2`): no `-` inside, which keeps `-k3s…` apart. */
export const KAIROS_PRERELEASE_PATTERN = '[0-9A-Za-z]+(?:\\.[0-9A-Za-z]+)*';
/** A Kairos version as a regular-expression source without groups, to embed in tag patterns. */
export const KAIROS_VERSION_PATTERN = `v\\d+\\.\\d+\\.\\d+(?:-${KAIROS_PRERELEASE_PATTERN})?`;

const PRERELEASE = new RegExp(`^${KAIROS_PRERELEASE_PATTERN}$`);

/** True when `text` is a pre-release part Kairos would write (`rc1`, not `k3s-1` or `rc_1`). */
export function isKairosPrerelease(text: string): boolean {
  return PRERELEASE.test(text);
}

/** The semver form (`1.5.1`) of a Kairos version (`v1.5.1`), or undefined when it is not one. */
export function kairosSemver(version: string): string | undefined {
  if (!/^v\d/.test(version)) return undefined;
  return semver().valid(version.slice(1)) ?? undefined;
}

export function isKairosVersion(version: string): boolean {
  return kairosSemver(version) !== undefined;
}

/** A Kairos version that is not a pre-release. */
export function isKairosRelease(version: string): boolean {
  const v = kairosSemver(version);
  return v !== undefined && semver().prerelease(v) === null;
}

/** What users type (`1.5.1` or `v1.5.1`) as a Kairos version (`v1.5.1`), or undefined. */
export function normalizeKairos(input: string): string | undefined {
  const v = /^\d/.test(input) ? `v${input}` : input;
  return isKairosVersion(v) ? v : undefined;
}

function semverOf(version: string): string {
  const v = kairosSemver(version);
  if (v === undefined) throw new TypeError(`not a Kairos version: ${version}`);
  return v;
}

/**
 * The one order of Kairos versions, oldest first (semver: `v2.0.0-alpha3` < `v2.0.0-rc1` < `v2.0.0`;
 * `rc10` < `rc2`, since semver compares mixed identifiers as text). Newest first is `(a, b) => compareKairos(b, a)`.
 */
export function compareKairos(a: string, b: string): number {
  return semver().compare(semverOf(a), semverOf(b));
}

export interface VersionRange {
  /** Inclusive lower bound (a Kairos version such as `v1.2.0`), or none. */
  readonly from?: string | undefined;
  /** Exclusive upper bound, or none. */
  readonly until?: string | undefined;
}

/** `from` ≤ version < `until`; throws a TypeError when a version is not a Kairos version. */
export function inRange(version: string, range: VersionRange): boolean {
  semverOf(version);
  if (range.from !== undefined && compareKairos(version, range.from) < 0) return false;
  return range.until === undefined || compareKairos(version, range.until) < 0;
}

export function describeRange(range: VersionRange): string {
  if (range.from !== undefined && range.until !== undefined) return `${range.from} up to (not including) ${range.until}`;
  if (range.from !== undefined) return `${range.from} and later`;
  if (range.until !== undefined) return `before ${range.until}`;
  return 'every release';
}
