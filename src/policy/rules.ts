/**
 * The Kairos versioning policy (the seed's "Versioning policy") as verdicts over a repository's
 * tag list, pure. Hand-written: the rules are Kairos' own, no library states them.
 *
 * - Release branch = MAJOR.MINOR of the Kairos version. The latest branch is the highest one with
 *   a non-pre-release OS-image tag (artifacts and noise never count); older branches are
 *   unsupported; within the latest branch only the newest patch is current; pre-releases are not
 *   supported.
 * - The Kairos version alone decides branch and patch, across the whole repository: v2.4.2+
 *   repositories hold many lines (flavor release / variant / arch / model), and a release is
 *   current or not whatever line it is published for. Upgrade targets, however, are picked only
 *   within the tag's own line, so `…-arm64-rpi4-…` is never told to move to `…-amd64-generic-…`.
 * - Standard images: the k3s versions a release ships are read from the tag list (v1 provider
 *   releases shipped up to seven k3s minors, later releases three; no rule in code). A k3s version
 *   the release does not publish in this line is `unknown-k3s`; a newer patch of the same k3s
 *   minor published for the same release and line is `outdated-k3s`.
 * - An artifact tag is judged as the OS image it belongs to; its upgrade target is the artifact
 *   form of the target when the repository publishes it.
 *
 * - Across repositories (`indexFlavorTags`): a flavor's tags from every repository it has been
 *   published in (v1 `core-<flavor>`, v2.4.2+ family repositories) form one list, so the latest
 *   branch is the flavor's (issue 16: with v3.2 published, `core-ubuntu:v1.5.1` is on an
 *   unsupported branch). Upgrade targets may then be in another repository and another naming:
 *   they keep the variant, the Kubernetes distribution, UKI or not, the arch and the model (a v1 tag,
 *   which spells neither, takes the caller's defaults), and prefer the tag's own flavor release.
 * - k3s (and k0s) versions are read the same way: those the flavor's release publishes.
 * - A pre-release newer than the newest release is told to "use" that release, not to "upgrade".
 *
 * Verdict precedence (one verdict per tag): not-a-release, unknown-k3s, prerelease,
 * unsupported-branch, outdated-patch, outdated-k3s, supported. The `-k3s` statuses stand for any
 * Kubernetes distribution (k0s alike); the reasons name the distribution.
 */
import { semverPackage as semver } from '../lazy-packages.js';
import { compareK8s, compareMinors, k8sDistroOf, k8sMinor, minorText } from '../version/index.js';
import { compareParsedTags, compareReleaseTags } from './order.js';
import {
  artifactOf,
  classifyTag,
  imageOf,
  k8sVersionOf,
  parseTag,
  tagProblem,
  type KairosTag,
  type ReleaseTag,
  type TagClass,
} from './tag.js';

export type VerdictStatus =
  | 'supported'
  | 'outdated-patch'
  | 'unsupported-branch'
  | 'prerelease'
  | 'outdated-k3s'
  | 'unknown-k3s'
  | 'not-a-release';

export interface Verdict {
  readonly status: VerdictStatus;
  readonly ok: boolean;
  readonly reason: string;
  /** A tag to move to (in `upgradeRepository` when that is set, else in the judged tag's repository). */
  readonly upgradeTo?: string;
  /** Set when the target is in another repository than the judged tag (flavor-wide judgement). */
  readonly upgradeRepository?: string;
}

/** One tag of a flavor's listing and the repository (`registry/path`) it is in. */
export interface TagEntry {
  readonly repository: string;
  readonly tag: string;
}

/** How upgrade candidates are matched: within one repository's lines, or across a flavor's repositories. */
export interface JudgementOptions {
  /** Arch and model for tags that do not spell them (version-first tags): the system's. */
  readonly arch?: string | undefined;
  readonly model?: string | undefined;
}

interface Entry {
  readonly repository: string;
  readonly tag: ReleaseTag;
}

/** A tag list (one repository's, or a flavor's across repositories), parsed and grouped once so that judging every tag stays cheap. */
export interface TagIndex {
  /** Every tag, parsed, newest first. */
  readonly all: readonly KairosTag[];
  /** Newest release (non-pre-release image) semver per branch `MAJOR.MINOR`. */
  readonly newestByBranch: ReadonlyMap<string, string>;
  /** The latest release branch `MAJOR.MINOR`, if any release exists. */
  readonly latestBranch: string | undefined;
  /** Artifact tags (`repository|tag` in a flavor-wide index). */
  readonly artifacts: ReadonlySet<string>;
  /** OS-image tags (releases and pre-releases) per Kairos semver, newest first. */
  readonly byVersion: ReadonlyMap<string, readonly Entry[]>;
  /** Release semvers per branch, newest first. */
  readonly releasesByBranch: ReadonlyMap<string, readonly string[]>;
  /** Newest release semver overall. */
  readonly newestRelease: string | undefined;
  readonly scope: 'repository' | 'flavor';
  readonly options: JudgementOptions;
}

/** Standard or core, also for version-first tags that do not spell the variant out. */
export function variantOf(tag: ReleaseTag): 'core' | 'standard' {
  return tag.variant ?? (k8sVersionOf(tag) === undefined ? 'core' : 'standard');
}

function distroOf(tag: ReleaseTag): string {
  const v = k8sVersionOf(tag);
  return v === undefined ? '' : k8sDistroOf(v);
}

/** Tags of one line are comparable upgrade candidates of each other (within one repository). */
export function lineOf(tag: ReleaseTag): string {
  return [tag.era, tag.flavorRelease ?? '', variantOf(tag), tag.arch ?? '', tag.model ?? '', distroOf(tag), tag.uki === true ? 'uki' : ''].join('|');
}

function lineLabel(tag: ReleaseTag): string {
  return tag.era === 'v1' ? `${variantOf(tag)} images` : `${tag.flavorRelease}-${tag.variant}-${tag.arch}-${tag.model}${tag.uki === true ? ' (UKI)' : ''}`;
}

/** The release branch `MAJOR.MINOR` of a Kairos version in semver form. */
export function branchOf(version: string): string {
  const branch = minorText(version);
  if (branch === undefined) throw new TypeError(`not a version: ${version}`);
  return branch;
}

function newer(a: string | undefined, b: string): string {
  return a === undefined || semver().gt(b, a) ? b : a;
}

function artifactKey(repository: string, tag: string): string {
  return repository === '' ? tag : `${repository}|${tag}`;
}

function buildIndex(entries: readonly { repository: string; tag: KairosTag }[], scope: TagIndex['scope'], options: JudgementOptions): TagIndex {
  const sorted = [...entries].sort((a, b) => compareParsedTags(a.tag, b.tag));
  const byVersion = new Map<string, Entry[]>();
  const newestByBranch = new Map<string, string>();
  const releasesByBranch = new Map<string, string[]>();
  const artifacts = new Set<string>();
  let latestBranch: string | undefined;
  let newestRelease: string | undefined;
  for (const { repository, tag: t } of sorted) {
    if (t.kind === 'noise') continue;
    if (t.artifact) {
      artifacts.add(artifactKey(repository, t.raw));
      continue;
    }
    const same = byVersion.get(t.semver);
    if (same) same.push({ repository, tag: t });
    else byVersion.set(t.semver, [{ repository, tag: t }]);
    if (t.kind !== 'release') continue;
    const branch = branchOf(t.semver);
    const versions = releasesByBranch.get(branch) ?? [];
    if (!versions.includes(t.semver)) versions.push(t.semver);
    releasesByBranch.set(branch, versions);
    newestByBranch.set(branch, newer(newestByBranch.get(branch), t.semver));
    newestRelease = newer(newestRelease, t.semver);
    if (latestBranch === undefined || compareMinors(branch, latestBranch) > 0) latestBranch = branch;
  }
  for (const versions of releasesByBranch.values()) versions.sort((a, b) => semver().rcompare(a, b));
  return { all: sorted.map((e) => e.tag), newestByBranch, latestBranch, artifacts, byVersion, releasesByBranch, newestRelease, scope, options };
}

/** One repository's tags: upgrade candidates stay within a tag's own line. */
export function indexTags(tags: readonly string[]): TagIndex {
  return buildIndex(tags.map((t) => ({ repository: '', tag: parseTag(t) })), 'repository', {});
}

/** A flavor's tags across the repositories it has been published in (see the header). */
export function indexFlavorTags(entries: readonly TagEntry[], options: JudgementOptions = {}): TagIndex {
  return buildIndex(entries.map((e) => ({ repository: e.repository, tag: parseTag(e.tag) })), 'flavor', options);
}

/** Whether `c` (a tag of another release) is an upgrade candidate for `from` under the index's scope. */
function comparable(index: TagIndex, from: Entry, c: Entry): boolean {
  if (index.scope === 'repository') return lineOf(c.tag) === lineOf(from.tag);
  const f = from.tag;
  const t = c.tag;
  if (variantOf(t) !== variantOf(f) || distroOf(t) !== distroOf(f) || (t.uki === true) !== (f.uki === true)) return false;
  const arch = f.arch ?? index.options.arch;
  const model = f.model ?? index.options.model;
  if (arch !== undefined && t.arch !== undefined && t.arch !== arch) return false;
  if (model !== undefined && t.model !== undefined && t.model !== model) return false;
  return true;
}

/** The candidates of one release for `from`, best first: its own flavor release first (flavor scope), newest Kubernetes first. */
function candidatesAt(index: TagIndex, version: string | undefined, from: Entry): Entry[] {
  if (version === undefined) return [];
  const all = (index.byVersion.get(version) ?? []).filter((c) => comparable(index, from, c));
  if (index.scope === 'repository' || from.tag.flavorRelease === undefined) return all;
  const own = all.filter((c) => c.tag.flavorRelease === from.tag.flavorRelease);
  if (own.length > 0) return own;
  // Another flavor release of the flavor (a pin moved, a rolling flavor): the newest one.
  return [...all].sort((a, b) => compareReleaseTags(a.tag, b.tag));
}

/** The newest release of `branch` (or of any branch) that has candidates for `from`. */
function newestWithCandidates(index: TagIndex, from: Entry, branch?: string): string | undefined {
  const branches = branch !== undefined ? [branch] : [...index.releasesByBranch.keys()].sort((a, b) => compareMinors(b, a));
  for (const b of branches) {
    for (const version of index.releasesByBranch.get(b) ?? []) {
      if (candidatesAt(index, version, from).some((c) => c.tag.kind === 'release')) return version;
    }
  }
  return undefined;
}

/**
 * The best tag of one release (candidates, best first) for someone on `from`: for a standard image
 * the newest Kubernetes version of the same minor, else the newest.
 */
function pickTarget(candidates: readonly Entry[], from: ReleaseTag): Entry | undefined {
  const k8s = k8sVersionOf(from);
  if (k8s === undefined) return candidates[0];
  const minor = k8sMinor(k8s);
  return candidates.find((c) => {
    const v = k8sVersionOf(c.tag);
    return v !== undefined && k8sMinor(v) === minor;
  }) ?? candidates[0];
}

interface Target {
  readonly tag: string;
  readonly repository: string;
  readonly version: string;
}

function upgrade(target: Entry | undefined, from: ReleaseTag, index: TagIndex): Target | undefined {
  if (target === undefined) return undefined;
  const base = { repository: target.repository, version: target.tag.semver };
  if (!from.artifact) return { ...base, tag: target.tag.raw };
  const artifact = artifactOf(target.tag).raw;
  return { ...base, tag: index.artifacts.has(artifactKey(target.repository, artifact)) ? artifact : target.tag.raw };
}

function verdict(status: VerdictStatus, reason: string, from?: { repository: string; tag: ReleaseTag }, target?: Target): Verdict {
  if (target === undefined || from === undefined) return { status, ok: status === 'supported', reason };
  const elsewhere = target.repository !== from.repository;
  const named = elsewhere ? `${target.repository}:${target.tag}` : target.tag;
  // Moving to an older release (a pre-release newer than the newest release) is no upgrade.
  const verb = semver().lt(target.version, from.tag.semver) ? 'use' : 'upgrade to';
  return {
    status,
    ok: status === 'supported',
    reason: `${reason}; ${verb} ${named}`,
    upgradeTo: target.tag,
    ...(elsewhere ? { upgradeRepository: target.repository } : {}),
  };
}

function v(version: string): string {
  return `v${version}`;
}

/** Judges one parsed tag (in `repository`, for flavor-wide indexes) against an index. */
export function evaluateParsed(tag: KairosTag, index: TagIndex, repository = ''): Verdict {
  if (tag.kind === 'noise') {
    return verdict('not-a-release', tagProblem(tag.raw) ?? `"${tag.raw}" is not a Kairos release tag`);
  }
  const image = imageOf(tag);
  const from: Entry = { repository, tag: image };
  const judged = { repository, tag };
  const k8s = k8sVersionOf(image);
  const distro = k8s === undefined ? 'k3s' : k8sDistroOf(k8s);

  const sameRelease = candidatesAt(index, image.semver, from).filter((c) => k8sVersionOf(c.tag) !== undefined);
  if (k8s !== undefined && !sameRelease.some((c) => compareK8s(k8sVersionOf(c.tag) as string, k8s) === 0)) {
    const shipped = sameRelease.map((c) => k8sVersionOf(c.tag)).join(', ');
    const where = index.scope === 'flavor' ? 'for this flavor' : 'in this repository';
    const reason =
      `${distro} ${k8s} is not published with ${image.version} for ${lineLabel(image)} ${where} ` +
      (shipped === '' ? `(no ${distro} version is)` : `(published: ${shipped})`);
    return verdict('unknown-k3s', reason, judged, upgrade(pickTarget(sameRelease, image), tag, index));
  }

  if (image.kind === 'prerelease') {
    const newest = newestWithCandidates(index, from);
    return verdict(
      'prerelease',
      `${image.version} is a pre-release; pre-releases are not supported`,
      judged,
      upgrade(pickTarget(candidatesAt(index, newest, from), image), tag, index),
    );
  }

  const branch = branchOf(image.semver);
  const latest = index.latestBranch === undefined || compareMinors(branch, index.latestBranch) > 0 ? branch : index.latestBranch;
  if (branch !== latest) {
    const newestOfLatest = newestWithCandidates(index, from, latest);
    const target = pickTarget(candidatesAt(index, newestOfLatest, from), image);
    return verdict(
      'unsupported-branch',
      `${image.version} is on release branch ${v(branch)}; only the latest release branch ${v(latest)} is supported`,
      judged,
      upgrade(target, tag, index),
    );
  }

  const newestPatch = newer(index.newestByBranch.get(branch), image.semver);
  if (semver().lt(image.semver, newestPatch)) {
    const lineNewest = newestWithCandidates(index, from, branch);
    const target =
      lineNewest !== undefined && semver().gt(lineNewest, image.semver) ? pickTarget(candidatesAt(index, lineNewest, from), image) : undefined;
    const missing = target === undefined ? ` (no newer patch is published for ${lineLabel(image)})` : '';
    return verdict(
      'outdated-patch',
      `${image.version} is not the newest patch of release branch ${v(branch)}: ${v(newestPatch)} is${missing}`,
      judged,
      upgrade(target, tag, index),
    );
  }

  if (k8s !== undefined) {
    const minor = k8sMinor(k8s);
    const newest = sameRelease.find((c) => k8sMinor(k8sVersionOf(c.tag) as string) === minor);
    const newestVersion = newest === undefined ? undefined : k8sVersionOf(newest.tag);
    if (newest !== undefined && newestVersion !== undefined && compareK8s(newestVersion, k8s) > 0) {
      return verdict(
        'outdated-k3s',
        `${distro} ${k8s} is older than ${newestVersion}, which ${image.version} also publishes for ${distro} ${minor}`,
        judged,
        upgrade(newest, tag, index),
      );
    }
  }

  const newestK8s = k8s === undefined ? '' : ` with the newest ${distro} ${k8sMinor(k8s)} patch`;
  return verdict('supported', `${image.version} is the newest patch of the latest release branch ${v(branch)}${newestK8s}`);
}

/** Judges `tag` under the versioning policy, given the repository's whole tag list. */
export function evaluateTag({ tag, tags }: { tag: string; tags: readonly string[] }): Verdict {
  return evaluateParsed(parseTag(tag), indexTags(tags));
}

/** Judges `tag` of `repository` among a flavor's tags across its repositories. */
export function evaluateFlavorTag({ repository, tag, entries, options }: { repository: string; tag: string; entries: readonly TagEntry[]; options?: JudgementOptions }): Verdict {
  return evaluateParsed(parseTag(tag), indexFlavorTags(entries, options), repository);
}

export interface TagEvaluation {
  readonly tag: string;
  readonly kind: TagClass;
  /** Absent for noise tags. */
  readonly verdict?: Verdict;
}

/** Every tag with its class and verdict, newest first (noise last, without a verdict). */
export function evaluateAll(tags: readonly string[]): TagEvaluation[] {
  const index = indexTags(tags);
  return index.all.map((t) =>
    t.kind === 'noise'
      ? { tag: t.raw, kind: 'noise' as const }
      : { tag: t.raw, kind: classifyTag(t), verdict: evaluateParsed(t, index) },
  );
}

export interface FlavorTagEvaluation extends TagEvaluation {
  readonly repository: string;
}

/** Every tag of a flavor's repositories with its class and flavor-wide verdict, newest first. */
export function evaluateFlavor(entries: readonly TagEntry[], options: JudgementOptions = {}): FlavorTagEvaluation[] {
  const index = indexFlavorTags(entries, options);
  const parsed = entries.map((e) => ({ repository: e.repository, tag: parseTag(e.tag) })).sort((a, b) => compareParsedTags(a.tag, b.tag));
  return parsed.map(({ repository, tag: t }) =>
    t.kind === 'noise'
      ? { repository, tag: t.raw, kind: 'noise' as const }
      : { repository, tag: t.raw, kind: classifyTag(t), verdict: evaluateParsed(t, index, repository) },
  );
}
