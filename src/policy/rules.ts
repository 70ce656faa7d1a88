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
 * Verdict precedence (one verdict per tag): not-a-release, unknown-k3s, prerelease,
 * unsupported-branch, outdated-patch, outdated-k3s, supported.
 */
import semver from 'semver';
import { compareK3s, compareMinors, k3sMinor, minorText } from '../version/index.js';
import { compareParsedTags } from './order.js';
import {
  artifactOf,
  classifyTag,
  imageOf,
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
  /** A tag of the same repository to move to. */
  readonly upgradeTo?: string;
}

/** The OS-image tags (release and pre-release, no artifacts) of one line. */
export interface LineIndex {
  /** Tags per Kairos semver, newest first. */
  readonly byVersion: ReadonlyMap<string, readonly ReleaseTag[]>;
  /** Newest release semver of this line per branch `MAJOR.MINOR`. */
  readonly newestByBranch: ReadonlyMap<string, string>;
  /** Newest release semver of this line. */
  readonly newestRelease: string | undefined;
}

/** A repository's tag list, parsed and grouped once so that judging every tag stays cheap. */
export interface TagIndex {
  /** Every tag, parsed, newest first. */
  readonly all: readonly KairosTag[];
  readonly byLine: ReadonlyMap<string, LineIndex>;
  /** Newest release (non-pre-release image) semver per branch `MAJOR.MINOR`. */
  readonly newestByBranch: ReadonlyMap<string, string>;
  /** The latest release branch `MAJOR.MINOR`, if any release exists. */
  readonly latestBranch: string | undefined;
  readonly artifacts: ReadonlySet<string>;
}

/** Standard or core, also for version-first tags that do not spell the variant out. */
export function variantOf(tag: ReleaseTag): 'core' | 'standard' {
  return tag.variant ?? (tag.k3s === undefined ? 'core' : 'standard');
}

/** Tags of one line are comparable upgrade candidates of each other. */
export function lineOf(tag: ReleaseTag): string {
  return [tag.era, tag.flavorRelease ?? '', variantOf(tag), tag.arch ?? '', tag.model ?? ''].join('|');
}

function lineLabel(tag: ReleaseTag): string {
  return tag.era === 'v1' ? `${variantOf(tag)} images` : `${tag.flavorRelease}-${tag.variant}-${tag.arch}-${tag.model}`;
}

/** The release branch `MAJOR.MINOR` of a Kairos version in semver form. */
export function branchOf(version: string): string {
  const branch = minorText(version);
  if (branch === undefined) throw new TypeError(`not a version: ${version}`);
  return branch;
}

function newer(a: string | undefined, b: string): string {
  return a === undefined || semver.gt(b, a) ? b : a;
}

export function indexTags(tags: readonly string[]): TagIndex {
  const all = tags.map((t) => parseTag(t)).sort(compareParsedTags);
  const byLine = new Map<
    string,
    { byVersion: Map<string, ReleaseTag[]>; newestByBranch: Map<string, string>; newestRelease: string | undefined }
  >();
  const newestByBranch = new Map<string, string>();
  const artifacts = new Set<string>();
  let latestBranch: string | undefined;
  for (const t of all) {
    if (t.kind === 'noise') continue;
    if (t.artifact) {
      artifacts.add(t.raw);
      continue;
    }
    const key = lineOf(t);
    let line = byLine.get(key);
    if (!line) {
      line = { byVersion: new Map(), newestByBranch: new Map(), newestRelease: undefined };
      byLine.set(key, line);
    }
    const sameVersion = line.byVersion.get(t.semver);
    if (sameVersion) sameVersion.push(t);
    else line.byVersion.set(t.semver, [t]);
    if (t.kind !== 'release') continue;
    const branch = branchOf(t.semver);
    line.newestByBranch.set(branch, newer(line.newestByBranch.get(branch), t.semver));
    line.newestRelease = newer(line.newestRelease, t.semver);
    newestByBranch.set(branch, newer(newestByBranch.get(branch), t.semver));
    if (latestBranch === undefined || compareMinors(branch, latestBranch) > 0) latestBranch = branch;
  }
  return { all, byLine, newestByBranch, latestBranch, artifacts };
}

/**
 * The best tag of one release (tags of one line, newest first) for someone on `from`: for a
 * standard image the newest k3s of the same minor, else the newest k3s.
 */
function pickTarget(sameVersion: readonly ReleaseTag[], from: ReleaseTag): ReleaseTag | undefined {
  if (from.k3s === undefined) return sameVersion[0];
  const minor = k3sMinor(from.k3s);
  return sameVersion.find((c) => c.k3s !== undefined && k3sMinor(c.k3s) === minor) ?? sameVersion[0];
}

function upgrade(target: ReleaseTag | undefined, from: ReleaseTag, index: TagIndex): string | undefined {
  if (target === undefined) return undefined;
  if (!from.artifact) return target.raw;
  const artifact = artifactOf(target).raw;
  return index.artifacts.has(artifact) ? artifact : target.raw;
}

function verdict(status: VerdictStatus, reason: string, upgradeTo?: string): Verdict {
  if (upgradeTo === undefined) return { status, ok: status === 'supported', reason };
  return { status, ok: status === 'supported', reason: `${reason}; upgrade to ${upgradeTo}`, upgradeTo };
}

function v(version: string): string {
  return `v${version}`;
}

/** Judges one parsed tag against an indexed tag list. */
export function evaluateParsed(tag: KairosTag, index: TagIndex): Verdict {
  if (tag.kind === 'noise') {
    return verdict('not-a-release', tagProblem(tag.raw) ?? `"${tag.raw}" is not a Kairos release tag`);
  }
  const image = imageOf(tag);
  const line = index.byLine.get(lineOf(image));
  const release = (version: string | undefined): readonly ReleaseTag[] =>
    (version === undefined ? undefined : line?.byVersion.get(version)) ?? [];

  const published = image.k3s === undefined ? [] : release(image.semver).filter((t) => t.k3s !== undefined);
  if (image.k3s !== undefined && !published.some((t) => t.k3s !== undefined && compareK3s(t.k3s, image.k3s as string) === 0)) {
    const shipped = published.map((t) => t.k3s).join(', ');
    const reason =
      `k3s ${image.k3s} is not published with ${image.version} for ${lineLabel(image)} in this repository ` +
      (shipped === '' ? `(no k3s version is)` : `(published: ${shipped})`);
    return verdict('unknown-k3s', reason, upgrade(pickTarget(published, image), tag, index));
  }

  if (image.kind === 'prerelease') {
    return verdict(
      'prerelease',
      `${image.version} is a pre-release; pre-releases are not supported`,
      upgrade(pickTarget(release(line?.newestRelease), image), tag, index),
    );
  }

  const branch = branchOf(image.semver);
  const latest = index.latestBranch === undefined || compareMinors(branch, index.latestBranch) > 0 ? branch : index.latestBranch;
  if (branch !== latest) {
    const target = pickTarget(release(line?.newestByBranch.get(latest)), image);
    return verdict(
      'unsupported-branch',
      `${image.version} is on release branch ${v(branch)}; only the latest release branch ${v(latest)} is supported`,
      upgrade(target, tag, index),
    );
  }

  const newestPatch = newer(index.newestByBranch.get(branch), image.semver);
  if (semver.lt(image.semver, newestPatch)) {
    const lineNewest = line?.newestByBranch.get(branch);
    const target =
      lineNewest !== undefined && semver.gt(lineNewest, image.semver) ? pickTarget(release(lineNewest), image) : undefined;
    const missing = target === undefined ? ` (no newer patch is published for ${lineLabel(image)})` : '';
    return verdict(
      'outdated-patch',
      `${image.version} is not the newest patch of release branch ${v(branch)}: ${v(newestPatch)} is${missing}`,
      upgrade(target, tag, index),
    );
  }

  if (image.k3s !== undefined) {
    const minor = k3sMinor(image.k3s);
    const newest = published.filter((t) => t.k3s !== undefined && k3sMinor(t.k3s) === minor)[0];
    if (newest?.k3s !== undefined && compareK3s(newest.k3s, image.k3s) > 0) {
      return verdict(
        'outdated-k3s',
        `k3s ${image.k3s} is older than ${newest.k3s}, which ${image.version} also publishes for k3s ${minor}`,
        upgrade(newest, tag, index),
      );
    }
  }

  const k3s = image.k3s === undefined ? '' : ` with the newest k3s ${k3sMinor(image.k3s)} patch`;
  return verdict('supported', `${image.version} is the newest patch of the latest release branch ${v(branch)}${k3s}`);
}

/** Judges `tag` under the versioning policy, given the repository's whole tag list. */
export function evaluateTag({ tag, tags }: { tag: string; tags: readonly string[] }): Verdict {
  return evaluateParsed(parseTag(tag), indexTags(tags));
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
