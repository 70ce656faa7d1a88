/**
 * Versions of the Kubernetes distributions Kairos ships in standard images, one grammar per
 * distribution and one order for all of them: k3s writes `v1.26.1+k3s1`, k0s `v1.32.1+k0s.0`;
 * Kairos tags must write the `+` as `-` (an OCI tag cannot hold `+`). Pure.
 * Hand-written on top of `semver`: semver parses `1.26.1+k3s1` but ignores build metadata when it
 * orders, and the distribution's build number (`+k3s2`, `+k0s.1`: a rebuild of the same
 * Kubernetes release) must order as a number.
 *
 *   version := "v" MAJOR "." MINOR "." PATCH ("+" | "-") distro sep BUILD      (canonical form: "+")
 *   distro  := "k3s" (sep "") | "k0s" (sep ".")
 *
 * The distributions and their build separators are the table below (k3s-io/k3s and
 * k0sproject/k0s release tags, as Kairos' release workflows read them: `+k3s[0-9]+`,
 * `+k0s\.[0-9]+`, kairos-io/kairos `.github/workflows/release.yaml` from v3.4.0).
 */
import { semverPackage as semver } from '../lazy-packages.js';

/** The distributions, each with the separator between its name and its build number. */
export const K8S_DISTROS = { k3s: '', k0s: '.' } as const;
export type K8sDistro = keyof typeof K8S_DISTROS;

export function isK8sDistro(name: string): name is K8sDistro {
  return Object.prototype.hasOwnProperty.call(K8S_DISTROS, name);
}

export const K8S_DISTRO_NAMES = Object.keys(K8S_DISTROS) as K8sDistro[];

const CORE = '\\d+\\.\\d+\\.\\d+';

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One distribution's version grammar as a regular-expression source without groups (`v1.26.1-k3s1`, either form). */
export function k8sPattern(distro: K8sDistro): string {
  return `v${CORE}[-+]${distro}${escape(K8S_DISTROS[distro])}\\d+`;
}

/** Any distribution's version, as a regular-expression source without groups. */
export const K8S_PATTERN = `(?:${K8S_DISTRO_NAMES.map(k8sPattern).join('|')})`;

export interface K8sVersion {
  readonly distro: K8sDistro;
  /** The semver core, e.g. `1.26.1`. */
  readonly core: string;
  /** The distribution's build number, e.g. 1 for `+k3s1`, 0 for `+k0s.0`. */
  readonly build: number;
}

export type K8sReading =
  | { readonly ok: true; readonly version: K8sVersion }
  | { readonly ok: false; readonly problem: 'syntax' }
  | { readonly ok: false; readonly problem: 'leading-zero-build'; readonly build: string };

const GRAMMARS = K8S_DISTRO_NAMES.map((distro) => ({
  distro,
  re: new RegExp(`^v(${CORE})[-+]${distro}${escape(K8S_DISTROS[distro])}(\\d+)$`),
}));

/** Reads `v1.26.1+k3s1`, `v1.32.1-k0s.0`, …, saying what is wrong otherwise (for tag-grammar messages). */
export function readK8s(text: string, only?: K8sDistro): K8sReading {
  for (const g of GRAMMARS) {
    if (only !== undefined && g.distro !== only) continue;
    const m = g.re.exec(text);
    const core = m?.[1];
    const build = m?.[2];
    if (core === undefined || build === undefined) continue;
    if (semver().valid(core) === null) return { ok: false, problem: 'syntax' };
    if (String(Number(build)) !== build) return { ok: false, problem: 'leading-zero-build', build };
    return { ok: true, version: { distro: g.distro, core, build: Number(build) } };
  }
  return { ok: false, problem: 'syntax' };
}

export function parseK8s(text: string, only?: K8sDistro): K8sVersion | undefined {
  const r = readK8s(text, only);
  return r.ok ? r.version : undefined;
}

/** `v1.26.1+k3s1` (canonical) or `v1.26.1-k3s1` (tag form). */
export function formatK8s(k: K8sVersion, form: 'canonical' | 'tag' = 'canonical'): string {
  return `v${k.core}${form === 'tag' ? '-' : '+'}${k.distro}${K8S_DISTROS[k.distro]}${k.build}`;
}

export function mustK8s(text: string): K8sVersion {
  const k = parseK8s(text);
  if (k === undefined) throw new TypeError(`not a Kubernetes distribution version: ${text}`);
  return k;
}

/** The distribution a version names (`v1.32.1+k0s.0` → `k0s`). */
export function k8sDistroOf(text: string): K8sDistro {
  return mustK8s(text).distro;
}

/** `MAJOR.MINOR` of the Kubernetes release, e.g. `1.26`. */
export function k8sMinor(text: string): string {
  const core = mustK8s(text).core;
  return `${semver().major(core)}.${semver().minor(core)}`;
}

/** The tag form: `v1.32.1+k0s.0` → `v1.32.1-k0s.0`. */
export function k8sTagForm(text: string): string {
  return formatK8s(mustK8s(text), 'tag');
}

/**
 * The one order of distribution versions, oldest first: by distribution name, then semver, then
 * build number (versions of different distributions are never upgrade candidates of each other;
 * the name only keeps the order total). Newest first is `newestFirst(compareK8s)`.
 */
export function compareK8s(a: string, b: string): number {
  const ka = mustK8s(a);
  const kb = mustK8s(b);
  if (ka.distro !== kb.distro) return ka.distro < kb.distro ? -1 : 1;
  return semver().compare(ka.core, kb.core) || ka.build - kb.build;
}

/**
 * What users type as a version of `distro`, in canonical form: `v1.32.1+k0s.0`, `v1.32.1-k0s.0`,
 * `1.32.1` (build 1 for k3s, 0 for k0s, their first builds) all work; undefined otherwise.
 */
export function normalizeK8s(input: string, distro: K8sDistro): string | undefined {
  const text = input.trim();
  const withV = text.startsWith('v') ? text : `v${text}`;
  const firstBuild = distro === 'k0s' ? 0 : 1;
  const k = parseK8s(new RegExp(`[-+]${distro}`).test(withV) ? withV : `${withV}+${distro}${K8S_DISTROS[distro]}${firstBuild}`, distro);
  return k === undefined ? undefined : formatK8s(k);
}
