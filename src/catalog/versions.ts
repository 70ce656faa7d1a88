/** Kairos versions (`v1.5.1`, `v2.0.0-alpha3`) and release ranges, ordered by semver. Pure. */
import semver from 'semver';
import type { VersionRange } from './types.js';

/** Returns the semver form (`1.5.1`) of a Kairos version (`v1.5.1`), or undefined when it is not one. */
export function kairosSemver(version: string): string | undefined {
  if (!/^v\d/.test(version)) return undefined;
  const parsed = semver.valid(version.slice(1));
  return parsed ?? undefined;
}

export function isKairosVersion(version: string): boolean {
  return kairosSemver(version) !== undefined;
}

function must(version: string): string {
  const v = kairosSemver(version);
  if (v === undefined) throw new TypeError(`not a Kairos version: ${version}`);
  return v;
}

export function compareVersions(a: string, b: string): number {
  return semver.compare(must(a), must(b));
}

export function inRange(version: string, range: VersionRange): boolean {
  const v = must(version);
  if (range.from !== undefined && semver.lt(v, must(range.from))) return false;
  if (range.until !== undefined && semver.gte(v, must(range.until))) return false;
  return true;
}

export function describeRange(range: VersionRange): string {
  if (range.from !== undefined && range.until !== undefined) return `${range.from} up to (not including) ${range.until}`;
  if (range.from !== undefined) return `${range.from} and later`;
  if (range.until !== undefined) return `before ${range.until}`;
  return 'every release';
}

/** k3s versions are written `v1.26.1+k3s1`; tags write the `+` as `-`. Returns the canonical `+` form. */
export function normalizeK3s(input: string): string | undefined {
  const m = /^v?(\d+\.\d+\.\d+)(?:[+-](k3s\d+))?$/.exec(input.trim());
  if (m === null) return undefined;
  return `v${m[1]}+${m[2] ?? 'k3s1'}`;
}

/** The tag form of a k3s version: `v1.26.1+k3s1` → `v1.26.1-k3s1`. */
export function k3sTagForm(k3s: string): string {
  return k3s.replace('+', '-');
}

export function compareK3s(a: string, b: string): number {
  const pa = normalizeK3s(a);
  const pb = normalizeK3s(b);
  if (pa === undefined || pb === undefined) throw new TypeError(`not a k3s version: ${pa === undefined ? a : b}`);
  const [va = '', ba = ''] = pa.slice(1).split('+');
  const [vb = '', bb = ''] = pb.slice(1).split('+');
  const c = semver.compare(va, vb);
  if (c !== 0) return c;
  return Number(ba.replace('k3s', '')) - Number(bb.replace('k3s', ''));
}
