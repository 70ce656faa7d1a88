/**
 * k3s versions: the k3s row of the distribution grammar in `./k8s.ts` (`v1.26.1+k3s1` as k3s
 * writes it, `v1.26.1-k3s1` as Kairos tags must), plus the `--k3s` selectors users type. Pure.
 * The order is `compareK8s` itself (one comparator for every distribution's versions).
 *
 *   k3s      := "v" MAJOR "." MINOR "." PATCH ("+" | "-") "k3s" BUILD       (canonical form: "+")
 *   selector := ["k3s"] ["v"] MAJOR "." MINOR [ "." PATCH [ ("+" | "-") "k3s" BUILD ] ]
 */
import { semverPackage as semver } from '../lazy-packages.js';
import { compareK8s, formatK8s, k8sPattern, normalizeK8s, readK8s, type K8sReading, type K8sVersion } from './k8s.js';

/** The k3s grammar as a regular-expression source without groups, to embed in tag patterns. */
export const K3S_PATTERN = k8sPattern('k3s');
const SELECTOR = /^(?:k3s)?v?(\d+)\.(\d+)(?:\.(\d+)(?:[-+]k3s(\d+))?)?$/;

/** A k3s version: the semver core (`1.26.1`) and the k3s build number (1 for `+k3s1`). */
export type K3sVersion = Omit<K8sVersion, 'distro'>;

export type K3sReading = Exclude<K8sReading, { ok: true }> | { readonly ok: true; readonly version: K3sVersion };

function asK3s(r: K8sReading): K3sReading {
  return r.ok ? { ok: true, version: { core: r.version.core, build: r.version.build } } : r;
}

/** Reads `v1.26.1+k3s1` or `v1.26.1-k3s1`, saying what is wrong otherwise (for tag-grammar messages). */
export function readK3s(text: string): K3sReading {
  return asK3s(readK8s(text, 'k3s'));
}

export function parseK3s(text: string): K3sVersion | undefined {
  const r = readK3s(text);
  return r.ok ? r.version : undefined;
}

export function isK3sVersion(text: string): boolean {
  return parseK3s(text) !== undefined;
}

/** `v1.26.1+k3s1` (canonical) or `v1.26.1-k3s1` (tag form). */
export function formatK3s(k: K3sVersion, form: 'canonical' | 'tag' = 'canonical'): string {
  return formatK8s({ distro: 'k3s', ...k }, form);
}

function must(k3s: string): K3sVersion {
  const k = parseK3s(k3s);
  if (k === undefined) throw new TypeError(`not a k3s version: ${k3s}`);
  return k;
}

/**
 * What users type as a k3s version, in canonical form: `v1.26.1+k3s1`, `v1.26.1-k3s1`, `1.26.1`
 * (build 1) all give `v1.26.1+k3s1`; undefined when it is none of these.
 */
export function normalizeK3s(input: string): string | undefined {
  return normalizeK8s(input, 'k3s');
}

/** The tag form of a k3s version: `v1.26.1+k3s1` → `v1.26.1-k3s1`. */
export function k3sTagForm(k3s: string): string {
  return formatK3s(must(k3s), 'tag');
}

/** Semver core of a k3s version, e.g. `1.26.1` from `v1.26.1+k3s1`. */
export function k3sSemver(k3s: string): string {
  return must(k3s).core;
}

/** The k3s build number, e.g. 1 from `v1.26.1+k3s1`. */
export function k3sBuild(k3s: string): number {
  return must(k3s).build;
}

/** `MAJOR.MINOR` of a k3s version, e.g. `1.26`. */
export function k3sMinor(k3s: string): string {
  const core = k3sSemver(k3s);
  return `${semver().major(core)}.${semver().minor(core)}`;
}

/** The order of k3s versions, oldest first (semver, then build number): `compareK8s` on k3s versions. */
export function compareK3s(a: string, b: string): number {
  must(a);
  must(b);
  return compareK8s(a, b);
}

/** A `--k3s` choice: a release, a patch (any build) or a minor (any patch); absent parts match anything. */
export interface K3sSelector {
  readonly major: number;
  readonly minor: number;
  readonly patch?: number | undefined;
  readonly build?: number | undefined;
}

export function parseK3sSelector(text: string): K3sSelector | undefined {
  const m = SELECTOR.exec(text);
  if (m === null) return undefined;
  const n = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
  return { major: Number(m[1]), minor: Number(m[2]), patch: n(m[3]), build: n(m[4]) };
}

/** Whether a k3s version (either form) is one the selector chooses. */
export function k3sSelects(selector: K3sSelector, k3s: string): boolean {
  const k = parseK3s(k3s);
  if (k === undefined) return false;
  const have = [semver().major(k.core), semver().minor(k.core), semver().patch(k.core), k.build];
  const want = [selector.major, selector.minor, selector.patch, selector.build];
  return want.every((n, i) => n === undefined || n === have[i]);
}
