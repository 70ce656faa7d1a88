/**
 * What a running Kairos system is (from its release keys) and what it can upgrade to (from a
 * flavor's tags): the pure core of `kairos-img releases`. Kairos' own conventions, so no library.
 *
 * Release keys, newest first (design.md §2, kairos-sdk versioneer `NewArtifactFromOSRelease`,
 * kairos-init `GetKairosReleaseStage`):
 *   /etc/kairos-release (v3.2.2+), or the KAIROS_ keys of /etc/os-release from v2.5.0:
 *     KAIROS_FLAVOR, KAIROS_FLAVOR_RELEASE, KAIROS_VARIANT, KAIROS_MODEL, KAIROS_TARGETARCH,
 *     KAIROS_RELEASE (the Kairos version; KAIROS_VERSION is version + k3s on older images),
 *     KAIROS_SOFTWARE_VERSION(+_PREFIX) for standard images, KAIROS_REGISTRY_AND_ORG (versioneer;
 *     kairos-init wrote it until 5de2111, 2025-06), KAIROS_TRUSTED_BOOT (kairos-init).
 *   v2.0.1 – v2.4: KAIROS_FLAVOR (a catalog flavor name), KAIROS_VARIANT, KAIROS_VERSION,
 *     KAIROS_IMAGE_REPO, KAIROS_IMAGE_LABEL.
 *   v1 – v2.0.0: FLAVOR, VARIANT, VERSION, IMAGE_REPO, IMAGE_LABEL (unprefixed, ID=kairos).
 *
 * Candidates (the fixes of kairos#684, #2329): only tags of the system's flavor, flavor release,
 * variant, arch, model and Kubernetes distribution; never artifacts, signatures, attestations,
 * `latest`, UKI images for a non-UKI system (nor non-UKI ones for a UKI system), or pre-releases
 * unless asked; newer than the current release (a newer Kairos version, or the same version with
 * a newer Kubernetes version of the same distribution, as versioneer's NewerAnyVersion).
 */
import { semverPackage as semver } from '../lazy-packages.js';
import { compareK8s, compareKairos, k8sDistroOf, k8sMinor, normalizeK8s, isK8sDistro } from '../version/index.js';
import { compareReleaseTags } from './order.js';
import { parseOsRelease } from './os-release.js';
import { evaluateParsed, indexFlavorTags, variantOf, type TagEntry, type Verdict } from './rules.js';
import { k8sVersionOf, parseTag, type ReleaseTag } from './tag.js';

export interface SystemRelease {
  /** KAIROS_FLAVOR: the repository name in the v2.4.2+ naming (`ubuntu`, `opensuse`, `hadron`), a catalog flavor before. */
  readonly flavor: string;
  readonly flavorRelease?: string | undefined;
  readonly variant: string;
  readonly model?: string | undefined;
  readonly arch?: string | undefined;
  /** The Kairos release the system runs; undefined: none (every release is a candidate). */
  readonly version?: string | undefined;
  /** The Kubernetes distribution of a standard image and its version (unknown for a catalog-named system). */
  readonly k8s?: { readonly distro: string; readonly version?: string | undefined } | undefined;
  readonly uki: boolean;
  /** Where the system's images live (`quay.io/kairos`), when the keys say. */
  readonly registryAndOrg?: string | undefined;
  /** The image the system was installed from (IMAGE_REPO[:IMAGE_LABEL]), when the keys say. */
  readonly image?: string | undefined;
  /** Which tag naming the system's image has. */
  readonly naming: 'flavor-release' | 'version-first';
  /** The file the keys were read from (or `catalog`). */
  readonly source: string;
}

export type SystemReading =
  | { readonly ok: true; readonly system: SystemRelease }
  | { readonly ok: false; readonly missing: readonly string[]; readonly source: string };

/** The keys a v2.4.2+ system must have (issue 16). */
export const RELEASE_KEYS = ['KAIROS_FLAVOR', 'KAIROS_FLAVOR_RELEASE', 'KAIROS_VARIANT', 'KAIROS_MODEL', 'KAIROS_TARGETARCH', 'KAIROS_RELEASE'] as const;

function kairosVersionOf(value: string | undefined): ReleaseTag | undefined {
  if (value === undefined || value === '') return undefined;
  const t = parseTag(/^\d/.test(value) ? `v${value}` : value);
  return t.kind === 'noise' || t.artifact ? undefined : t;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(?:true|1|yes)$/i.test(v);
}

function k8sFrom(prefix: string | undefined, version: string | undefined): SystemRelease['k8s'] | 'bad' | undefined {
  if (version === undefined || version === '') return undefined;
  const distro = prefix === undefined || prefix === '' ? 'k3s' : prefix;
  if (!isK8sDistro(distro)) return 'bad';
  const v = normalizeK8s(version, distro);
  return v === undefined ? 'bad' : { distro, version: v };
}

/**
 * Reads the system from the text of its release file (`/etc/kairos-release` or `/etc/os-release`):
 * which keys the file has decides how it is read; a file without the keys it needs names them.
 */
export function readSystemRelease(text: string, source: string): SystemReading {
  const values = parseOsRelease(text).values;
  const get = (k: string): string | undefined => {
    const v = values.get(k);
    return v === undefined || v === '' ? undefined : v;
  };
  const newKeys = ['KAIROS_FLAVOR_RELEASE', 'KAIROS_MODEL', 'KAIROS_TARGETARCH', 'KAIROS_RELEASE'].some((k) => get(k) !== undefined);
  // Older systems say their image (IMAGE_REPO/IMAGE_LABEL, prefixed from v2.0.1) instead of the v2.5 keys.
  const older = ['KAIROS_IMAGE_REPO', 'KAIROS_IMAGE_LABEL', 'IMAGE_REPO', 'IMAGE_LABEL', 'FLAVOR'].some((k) => get(k) !== undefined);
  const prefixed = [...values.keys()].some((k) => k.startsWith('KAIROS_IMAGE_'));
  if (newKeys || !older) {
    const missing: string[] = RELEASE_KEYS.filter((k) => get(k) === undefined && !(k === 'KAIROS_RELEASE' && get('KAIROS_VERSION') !== undefined));
    const variant = get('KAIROS_VARIANT');
    if (variant === 'standard' && get('KAIROS_SOFTWARE_VERSION') === undefined) missing.push('KAIROS_SOFTWARE_VERSION');
    const version = kairosVersionOf(get('KAIROS_RELEASE') ?? get('KAIROS_VERSION'));
    if (missing.length === 0 && version === undefined) missing.push('KAIROS_RELEASE (a Kairos version)');
    const k8s = k8sFrom(get('KAIROS_SOFTWARE_VERSION_PREFIX'), get('KAIROS_SOFTWARE_VERSION') ?? version?.k3s);
    if (k8s === 'bad') missing.push('KAIROS_SOFTWARE_VERSION (a k3s or k0s version)');
    if (missing.length > 0 || version === undefined || k8s === 'bad') return { ok: false, missing, source };
    return {
      ok: true,
      system: {
        flavor: get('KAIROS_FLAVOR') as string,
        flavorRelease: get('KAIROS_FLAVOR_RELEASE'),
        variant: variant as string,
        model: get('KAIROS_MODEL'),
        arch: get('KAIROS_TARGETARCH'),
        version: version.version,
        k8s: variant === 'standard' ? k8s : undefined,
        uki: truthy(get('KAIROS_TRUSTED_BOOT')),
        registryAndOrg: get('KAIROS_REGISTRY_AND_ORG'),
        image: get('KAIROS_IMAGE_REPO'),
        naming: 'flavor-release',
        source,
      },
    };
  }
  // Older systems: the flavor is a catalog name and the image reference says the rest.
  const p = prefixed ? 'KAIROS_' : '';
  const keys = { flavor: `${p}FLAVOR`, variant: `${p}VARIANT`, version: `${p}VERSION` };
  const missing = Object.values(keys).filter((k) => get(k) === undefined);
  const version = kairosVersionOf(get(keys.version));
  if (missing.length === 0 && version === undefined) missing.push(`${keys.version} (a Kairos version)`);
  if (missing.length > 0 || version === undefined) return { ok: false, missing, source };
  const repo = get(`${p}IMAGE_REPO`);
  const label = get(`${p}IMAGE_LABEL`);
  const variant = get(keys.variant) as string;
  const k8s = variant === 'standard' && version.k3s !== undefined ? { distro: 'k3s', version: version.k3s } : undefined;
  return {
    ok: true,
    system: {
      flavor: get(keys.flavor) as string,
      variant,
      version: version.version,
      k8s,
      uki: false,
      image: repo === undefined ? undefined : label === undefined || repo.includes('@') || /:[^/]+$/.test(repo) ? repo : `${repo}:${label}`,
      naming: 'version-first',
      source,
    },
  };
}

export interface Candidate {
  readonly repository: string;
  readonly tag: ReleaseTag;
  readonly verdict: Verdict;
}

export interface CandidateOptions {
  /** Include pre-releases. */
  readonly pre?: boolean | undefined;
  /** Arch and model for systems (and tags) that do not say them. */
  readonly arch?: string | undefined;
  readonly model?: string | undefined;
}

function distroOf(t: ReleaseTag): string | undefined {
  const v = k8sVersionOf(t);
  return v === undefined ? undefined : k8sDistroOf(v);
}

/** Whether a tag is on the system's line (flavor release, variant, arch, model, distribution, UKI). */
export function onSystemLine(system: SystemRelease, t: ReleaseTag, opts: CandidateOptions = {}): boolean {
  if (t.artifact) return false;
  if ((t.uki === true) !== system.uki) return false;
  if (variantOf(t) !== system.variant) return false;
  if (distroOf(t) !== system.k8s?.distro) return false;
  if (t.era === 'v2.4.2+') {
    const arch = system.arch ?? opts.arch;
    const model = system.model ?? opts.model;
    if (arch !== undefined && t.arch !== arch) return false;
    if (model !== undefined && t.model !== model) return false;
    if (system.flavorRelease !== undefined && t.flavorRelease !== system.flavorRelease) return false;
  }
  return true;
}

/** Newer than what the system runs: a newer Kairos version, or the same one with a newer Kubernetes version. */
export function newerThanSystem(system: SystemRelease, t: ReleaseTag): boolean {
  if (system.version === undefined) return true;
  const c = compareKairos(t.version, system.version);
  if (c !== 0) return c > 0;
  const k = k8sVersionOf(t);
  return k !== undefined && system.k8s?.version !== undefined && compareK8s(k, system.k8s.version) > 0;
}

/**
 * The system's upgrade candidates among a flavor's tags (`entries`, across its repositories),
 * newest first, each with its verdict under the versioning policy (judged flavor-wide).
 */
export function upgradeCandidates(system: SystemRelease, entries: readonly TagEntry[], opts: CandidateOptions = {}): Candidate[] {
  const index = indexFlavorTags(entries, { arch: system.arch ?? opts.arch, model: system.model ?? opts.model });
  const out: Candidate[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const t = parseTag(e.tag);
    if (t.kind === 'noise') continue;
    if (t.kind === 'prerelease' && opts.pre !== true) continue;
    if (!onSystemLine(system, t, opts) || !newerThanSystem(system, t)) continue;
    const key = `${e.repository}:${t.raw}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ repository: e.repository, tag: t, verdict: evaluateParsed(t, index, e.repository) });
  }
  return out.sort((a, b) => compareReleaseTags(a.tag, b.tag));
}

export interface CrossedRelease {
  readonly version: string;
  readonly changelogs: readonly string[];
}

export interface UpgradePlan {
  readonly from?: string | undefined;
  readonly target: { readonly repository: string; readonly tag: string; readonly version: string; readonly verdict: Verdict };
  /** Every Kairos release after the current one up to the target, oldest first. */
  readonly releases: readonly CrossedRelease[];
  readonly warnings: readonly string[];
}

/** The seed's "Versioning policy": major releases. */
export const MAJOR_UPGRADE_WARNING = 'in-place upgrade from old to new major release branch is not always guaranteed';

/**
 * The releases an upgrade to `target` crosses (every release published for the flavor after the
 * current one, up to the target: their changelogs are to be read, the seed says) and the warnings
 * the policy knows. `changelogs(version)` gives a release's changelog pages.
 */
export function upgradePlan(opts: {
  system: SystemRelease;
  target: Candidate;
  entries: readonly TagEntry[];
  changelogs: (version: string) => readonly string[];
  /** The repository of the system's current image, when known. */
  currentRepository?: string | undefined;
}): UpgradePlan {
  const { system, target } = opts;
  const versions = new Set<string>();
  for (const e of opts.entries) {
    const t = parseTag(e.tag);
    if (t.kind !== 'release' || t.artifact) continue;
    if (system.version !== undefined && compareKairos(t.version, system.version) <= 0) continue;
    if (compareKairos(t.version, target.tag.version) > 0) continue;
    versions.add(t.version);
  }
  versions.add(target.tag.version);
  const releases = [...versions].sort(compareKairos).map((version) => ({ version, changelogs: [...opts.changelogs(version)] }));
  const warnings: string[] = [];
  const from = system.version === undefined ? undefined : semver().major(system.version.slice(1));
  const to = semver().major(target.tag.version.slice(1));
  if (from !== undefined && to > from) {
    warnings.push(`${system.version} → ${target.tag.version} crosses a major release (v${from} → v${to}): ${MAJOR_UPGRADE_WARNING} (Kairos versioning policy)`);
  }
  if (!target.verdict.ok) warnings.push(`the target is not supported: ${target.verdict.reason}`);
  if (target.tag.kind === 'prerelease') warnings.push(`${target.tag.version} is a pre-release; pre-releases are not supported`);
  if (opts.currentRepository !== undefined && opts.currentRepository !== target.repository) {
    warnings.push(`the image moves from ${opts.currentRepository} to ${target.repository} (the ${target.tag.era} naming)`);
  }
  const targetK8s = k8sVersionOf(target.tag);
  if (system.k8s?.version !== undefined && targetK8s !== undefined) {
    const a = k8sMinor(system.k8s.version);
    const b = k8sMinor(targetK8s);
    const [am, an] = a.split('.').map(Number);
    const [bm, bn] = b.split('.').map(Number);
    if (am === bm && an !== undefined && bn !== undefined && bn - an > 1) {
      warnings.push(`Kubernetes ${a} → ${b} skips minors; Kubernetes upgrades one minor at a time`);
    }
  }
  return {
    from: system.version,
    target: { repository: target.repository, tag: target.tag.raw, version: target.tag.version, verdict: target.verdict },
    releases,
    warnings,
  };
}
