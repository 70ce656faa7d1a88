/**
 * Is this Talos combination supported? One verdict per question (Kubernetes range, platform and
 * tier, architecture, upgrade path, community support on a date), each with its reason. Pure:
 * the matrix and the date are inputs; unknown names are usage errors, a "no" is a failed check.
 * Results have the policy's check shape (`id`, `ok`, `message`), so they render like `verify`'s.
 */
import { usageError } from '../../errors.js';
import { allPassed, type Check } from '../../policy/check.js';
import { normalizeArch } from '../names.js';
import { findRelease, requirePlatform } from './find.js';
import { groupsListing, platformIndex, tierOf, tierOnlyPlatforms } from './platforms.js';
import { compareMinors, formatMinor, minorOf } from '../../version/minor.js';
import { compareDates, isIsoDate } from './dates.js';
import type { NamedGroup, Tier, TalosMatrix, TalosMinor, TalosRelease } from './types.js';

export const TIER_MEANING: Readonly<Record<Tier, string>> = {
  '1': 'automated tests, high-priority fixes',
  '2': 'tested from time to time, medium-priority bugfixes',
  '3': 'not tested by core Talos team, community tested',
};

const GROUP_NAME: Readonly<Record<NamedGroup, string>> = { cloud: 'cloud', virtualized: 'virtualized', sbcs: 'SBC', local: 'local' };

export interface TalosCheckRequest {
  talos: string;
  kubernetes?: string | undefined;
  platform?: string | undefined;
  arch?: string | undefined;
  /** The version upgraded from (`1.3`, `v1.3.7`). */
  from?: string | undefined;
  /** The day support is judged on, `YYYY-MM-DD`. */
  on: string;
}

export type TalosCheckId = 'kubernetes' | 'platform' | 'arch' | 'upgrade' | 'support';

/** A check (never skipped), with what platform and upgrade checks find on the way. */
export interface TalosCheck extends Check<TalosCheckId> {
  readonly ok: boolean;
  /** Platform: canonical name and tier; upgrade: the recommended minors to pass through. */
  readonly platform?: string;
  readonly tier?: Tier | null;
  readonly path?: TalosMinor[];
}

export interface TalosCheckReport {
  talos: TalosMinor;
  released: string;
  on: string;
  supported: boolean;
  checks: TalosCheck[];
}

function span(r: TalosRelease): string {
  return `${r.kubernetes.min}–${r.kubernetes.max}`;
}

/** Talos minors whose Kubernetes range holds this minor, as runs of neighbours (`1.2–1.3, 1.6`). */
function talosSupporting(matrix: TalosMatrix, k8s: string): string {
  const runs: TalosMinor[][] = [];
  let previous = false;
  for (const r of matrix.versions) {
    const ok = compareMinors(r.kubernetes.min, k8s) <= 0 && compareMinors(k8s, r.kubernetes.max) <= 0;
    if (ok && previous) runs[runs.length - 1]?.push(r.version);
    else if (ok) runs.push([r.version]);
    previous = ok;
  }
  if (runs.length === 0) return 'no Talos version in the matrix supports it';
  const text = runs.map((run) => (run.length === 1 ? run[0] : `${run[0]}–${run[run.length - 1]}`)).join(', ');
  return `Talos ${text} ${runs.length === 1 && runs[0]?.length === 1 ? 'supports' : 'support'} it`;
}

export function checkKubernetes(matrix: TalosMatrix, release: TalosRelease, input: string): TalosCheck {
  const m = minorOf(input);
  if (m === undefined) throw usageError('BAD_KUBERNETES_VERSION', `"${input}" is not a Kubernetes version`, 'write it like 1.26 or v1.26.3');
  const k = formatMinor(m);
  const { min, max } = release.kubernetes;
  if (compareMinors(k, min) < 0) {
    return { id: 'kubernetes', ok: false, message: `Kubernetes ${k} is older than ${min}, the oldest Talos ${release.version} supports (${span(release)}); ${talosSupporting(matrix, k)}` };
  }
  if (compareMinors(k, max) > 0) {
    return { id: 'kubernetes', ok: false, message: `Kubernetes ${k} is newer than ${max}, the newest Talos ${release.version} supports (${span(release)}); ${talosSupporting(matrix, k)}` };
  }
  return { id: 'kubernetes', ok: true, message: `Kubernetes ${k} is within ${span(release)}` };
}

export function checkPlatform(matrix: TalosMatrix, release: TalosRelease, input: string): TalosCheck {
  const name = requirePlatform(matrix, input);
  const index = platformIndex(matrix.platforms);
  const groups = groupsListing(release, name, index);
  const tier = tierOf(release, name, index);
  // Metal and nocloud appear only in tier lists: there, the tier list is the listing.
  const listed = groups.length > 0 || (tier !== undefined && tierOnlyPlatforms(matrix).has(name));
  if (!listed) {
    const listing = matrix.versions.filter((r) => groupsListing(r, name, index).length > 0).map((r) => r.version);
    const first = listing[0];
    const last = listing[listing.length - 1];
    const when = first === undefined ? 'no release lists it'
      : compareMinors(release.version, first) < 0 ? `it is listed from ${first}`
        : last !== undefined && compareMinors(release.version, last) > 0 ? `it was last listed in ${last}`
          : `listed in ${listing.join(', ')}`;
    return { id: 'platform', ok: false, platform: name, tier: null, message: `${name} is not a Talos ${release.version} platform (${when})` };
  }
  const where = groups.length > 0 ? `a Talos ${release.version} ${groups.map((g) => GROUP_NAME[g]).join(' and ')} platform` : `a Talos ${release.version} platform`;
  const tierText = tier === undefined ? 'no tier given' : `Tier ${tier} (${TIER_MEANING[tier]})`;
  return { id: 'platform', ok: true, platform: name, tier: tier ?? null, message: `${name} is ${where}, ${tierText}` };
}

export function checkArch(release: TalosRelease, input: string): TalosCheck {
  const arch = normalizeArch(input);
  const ok = release.arches.includes(arch);
  return {
    id: 'arch',
    ok,
    message: ok ? `${arch} is a Talos ${release.version} architecture` : `${input} is not a Talos ${release.version} architecture (${release.arches.join(', ')})`,
  };
}

/** The known minors strictly between `from` and the target: the docs recommend the latest patch of each. */
export function intermediateMinors(matrix: TalosMatrix, from: string, to: TalosMinor): TalosMinor[] {
  return matrix.versions.map((r) => r.version).filter((v) => compareMinors(from, v) < 0 && compareMinors(v, to) < 0);
}

function through(path: readonly string[]): string {
  return path.map((v) => `${v}.x`).join(' → ');
}

export function checkUpgrade(matrix: TalosMatrix, release: TalosRelease, input: string): TalosCheck {
  const m = minorOf(input);
  if (m === undefined) throw usageError('BAD_VERSION', `--from "${input}" is not a Talos version`, 'write it like 1.3 or v1.3.7');
  const from = formatMinor(m);
  const to = release.version;
  const order = compareMinors(from, to);
  if (order > 0) return { id: 'upgrade', ok: false, path: [], message: `${input} is newer than ${to}: that is a downgrade, not an upgrade` };
  if (order === 0) return { id: 'upgrade', ok: true, path: [], message: `${input} → ${to}: a patch upgrade within ${to}` };
  const path = intermediateMinors(matrix, from, to);
  const recommended = path.length === 0 ? 'a direct upgrade' : `recommended through the latest patch of ${through(path)}, then ${to}`;
  if (compareMinors(from, release.upgradeFrom) < 0) {
    return { id: 'upgrade', ok: false, path, message: `the Talos ${to} installer refuses upgrades from ${input}: it needs ${release.upgradeFrom} or later; upgrade through the latest patch of ${through(path)} first` };
  }
  return { id: 'upgrade', ok: true, path, message: `${input} → ${to} is allowed (${to} upgrades from ${release.upgradeFrom} or later); ${recommended}` };
}

export function checkSupport(release: TalosRelease, on: string): TalosCheck {
  if (!isIsoDate(on)) throw usageError('BAD_DATE', `"${on}" is not a date`, 'write dates as YYYY-MM-DD, e.g. --on 2023-03-16');
  const end = release.communitySupportEnds;
  const endText = `${end.date}${end.tbd ? ', TBD in the matrix' : ''}`;
  if (compareDates(on, release.released.date) < 0) {
    return { id: 'support', ok: false, message: `on ${on} Talos ${release.version} is not released yet (released ${release.released.date})` };
  }
  // Support lasts through the end date: the next minor's release day is the last supported day.
  if (compareDates(on, end.date) <= 0) {
    const when = on === end.date ? 'ends today, with' : 'lasts until';
    return { id: 'support', ok: true, message: `on ${on} Talos ${release.version} has community support; it ${when} the ${end.release} release (${endText})` };
  }
  return { id: 'support', ok: false, message: `on ${on} community support of Talos ${release.version} has ended, with the ${end.release} release (${endText}); enterprise support: ${release.enterpriseSupport.text}` };
}

export function checkTalos(matrix: TalosMatrix, req: TalosCheckRequest): TalosCheckReport {
  const release = findRelease(matrix, req.talos);
  const checks: TalosCheck[] = [];
  if (req.kubernetes !== undefined) checks.push(checkKubernetes(matrix, release, req.kubernetes));
  if (req.platform !== undefined) checks.push(checkPlatform(matrix, release, req.platform));
  if (req.arch !== undefined) checks.push(checkArch(release, req.arch));
  if (req.from !== undefined) checks.push(checkUpgrade(matrix, release, req.from));
  checks.push(checkSupport(release, req.on));
  return { talos: release.version, released: release.released.date, on: req.on, supported: allPassed(checks), checks };
}
