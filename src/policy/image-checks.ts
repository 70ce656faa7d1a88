/**
 * The checks of `kairos-img verify`, pure: each takes what was read (tag list, release files,
 * config) and says pass, fail or skipped, with the reason. Kairos' own conventions, so no library.
 *
 * Decisions (docs/kairos-images.md and what the fixtures model):
 * - A standard image's version key may carry the k3s suffix (`v1.5.1-k3sv1.26.1+k3s1`, as
 *   provider-kairos wrote it) or not (`v2.3.0`); the Kairos part must equal the tag's version
 *   (for standard images: the provider version, which is what the tag says), and a k3s part, when
 *   present, must equal the tag's k3s. IMAGE_LABEL is compared the same way when it parses as a tag.
 * - The release keys must sit where the tag's era puts them; keys in the wrong file mean the
 *   image is not the release its tag says.
 * - Flavor keys: the catalog flavor name, or for v2.4.2+ images also the family (those images
 *   write `opensuse`, `ubuntu`, `alpine`).
 * - Upstream: os-release ID must be the pin's `os`, and MAJOR.MINOR of VERSION_ID the pin's
 *   release (Alpine 3.18.4 fits 3.18). An unpinned flavor (release null) is skipped.
 * - Signatures: with a policy (given, or the Kairos release policy for Kairos images) a signature
 *   that is found and fails it fails the check; none found fails only when one is required;
 *   without a policy the cosign tags are listed as information.
 */
import { semverPackage as semver } from '../lazy-packages.js';
import { isDigest } from '../oci/digest.js';
import { normalizeArch } from '../catalog/names.js';
import { compareK3s } from '../version/k3s.js';
import { fail, pass, skip, type Check } from './check.js';

export { allPassed, type Check } from './check.js';
import { evaluateFlavorTag, evaluateTag, variantOf, type JudgementOptions, type TagEntry, type VerdictStatus } from './rules.js';
import { parseTag, tagProblem, type ReleaseTag } from './tag.js';
import type { FlavorIdentity } from './image-flavor.js';
import {
  describeKeysEra,
  kairosKeys,
  kairosKeysEra,
  upstreamRelease,
  ALPINE_RELEASE,
  USR_OS_RELEASE,
  type KeyValue,
  type ReleaseFiles,
} from './release-files.js';

export type CheckId = 'tag-grammar' | 'support' | 'kairos-release' | 'upstream-pin' | 'arch' | 'signatures';

/** One image check: the shared check shape with verify's ids. */
export type ImageCheck = Check<CheckId>;

// ── tag-grammar ─────────────────────────────────────────────────────────────────────────────

export function checkTagGrammar(tag: string | undefined): ImageCheck {
  if (tag === undefined) return skip('tag-grammar', 'the image is referenced by digest: there is no tag to check');
  const problem = tagProblem(tag);
  if (problem !== undefined) return fail('tag-grammar', problem);
  const t = parseTag(tag) as ReleaseTag;
  const what = [
    t.kind === 'prerelease' ? 'pre-release' : 'release',
    t.version,
    variantOf(t),
    ...(t.k3s === undefined ? [] : [`k3s ${t.k3s}`]),
    ...(t.era === 'v2.4.2+' ? [`${t.flavorRelease}, ${t.arch}, ${t.model}`] : []),
    ...(t.artifact ? ['disk-image artifact'] : []),
  ];
  return pass('tag-grammar', `"${tag}" is a valid Kairos tag (${what.join(', ')})`);
}

// ── support ─────────────────────────────────────────────────────────────────────────────────

const STATUS_TEXT: Record<VerdictStatus, string> = {
  supported: 'supported',
  'outdated-patch': 'outdated patch',
  'unsupported-branch': 'unsupported branch',
  prerelease: 'pre-release',
  'outdated-k3s': 'outdated k3s',
  'unknown-k3s': 'unknown k3s',
  'not-a-release': 'not a release',
};

/** A flavor's tags across its repositories, for the flavor-wide verdict (the tag is in `repository`). */
export interface FlavorListing {
  readonly repository: string;
  readonly entries: readonly TagEntry[];
  readonly options?: JudgementOptions | undefined;
}

/**
 * The versioning policy's verdict on `tag`: among the repository's `tags`, or among a flavor's
 * tags across every repository it has been published in (the latest branch is the flavor's).
 */
export function checkSupport(tag: string | undefined, tags: readonly string[] | FlavorListing): ImageCheck {
  if (tag === undefined) return skip('support', 'the image is referenced by digest: there is no tag to judge');
  if (tagProblem(tag) !== undefined) return skip('support', 'not judged: the tag is not a Kairos tag (see tag-grammar)');
  const v = isListing(tags)
    ? evaluateFlavorTag({ repository: tags.repository, tag, entries: tags.entries, options: tags.options })
    : evaluateTag({ tag, tags });
  return { id: 'support', ok: v.ok, message: `${STATUS_TEXT[v.status]}: ${v.reason}` };
}

function isListing(x: readonly string[] | FlavorListing): x is FlavorListing {
  return !Array.isArray(x);
}

// ── kairos-release ──────────────────────────────────────────────────────────────────────────

export interface ImageFacts {
  readonly tag: ReleaseTag;
  readonly files: ReleaseFiles;
  readonly flavor: FlavorIdentity;
}

function asTag(value: string): ReleaseTag | undefined {
  const t = parseTag(/^\d/.test(value) ? `v${value}` : value);
  return t.kind === 'noise' || t.artifact ? undefined : t;
}

/** Compares a version-like key (`v2.3.0`, `v1.5.1-k3sv1.26.1+k3s1`) with the tag; a problem or undefined. */
function versionProblem(kv: KeyValue, tag: ReleaseTag, strict: boolean): string | undefined {
  const found = asTag(kv.value);
  if (found === undefined) return strict ? `${kv.key}="${kv.value}" is not a Kairos version` : undefined;
  if (!semver().eq(found.semver, tag.semver)) return `${kv.key}="${kv.value}" says ${found.version}, the tag ${tag.version}`;
  if (found.k3s !== undefined && (tag.k3s === undefined || compareK3s(found.k3s, tag.k3s) !== 0)) {
    return `${kv.key}="${kv.value}" says k3s ${found.k3s}, the tag ${tag.k3s ?? 'no k3s'}`;
  }
  return undefined;
}

function flavorText(flavor: FlavorIdentity): string {
  return flavor.candidates.map((f) => f.name).join(' or ');
}

export function checkKairosRelease({ tag, files, flavor }: ImageFacts): ImageCheck {
  const id = 'kairos-release';
  const expected = kairosKeysEra(tag.semver);
  const keys = kairosKeys(files);
  if (keys === undefined) {
    return fail(id, `no Kairos release keys in the image; a ${tag.version} image carries ${describeKeysEra(expected)}`);
  }
  const problems: string[] = [];
  if (keys.era !== expected) {
    problems.push(`the keys are ${describeKeysEra(keys.era)}, but a ${tag.version} image carries ${describeKeysEra(expected)}`);
  }
  const missing = (what: string): string => `no ${what} key`;
  if (keys.version === undefined) problems.push(missing('version'));
  else {
    const p = versionProblem(keys.version, tag, true);
    if (p !== undefined) problems.push(p);
  }
  if (keys.label !== undefined) {
    const p = versionProblem(keys.label, tag, false);
    if (p !== undefined) problems.push(p);
  }
  let flavorNote = '';
  if (keys.flavor === undefined) problems.push(missing('flavor'));
  else if (flavor.names.length === 0) flavorNote = ` (flavor not compared: ${flavor.reason ?? 'unknown'})`;
  else if (!flavor.names.includes(keys.flavor.value)) {
    problems.push(`${keys.flavor.key}="${keys.flavor.value}", but the image is named as ${flavor.names.join(' or ')}`);
  }
  const variant = variantOf(tag);
  if (keys.variant === undefined) problems.push(missing('variant'));
  else if (keys.variant.value !== variant) problems.push(`${keys.variant.key}="${keys.variant.value}", the tag names a ${variant} image`);
  const same = (kv: KeyValue | undefined, want: string | undefined, what: string, norm = (s: string) => s): void => {
    if (kv !== undefined && want !== undefined && norm(kv.value) !== norm(want)) {
      problems.push(`${kv.key}="${kv.value}", the tag's ${what} is ${want}`);
    }
  };
  same(keys.flavorRelease, tag.flavorRelease, 'flavor release');
  same(keys.arch, tag.arch, 'arch', normalizeArch);
  same(keys.model, tag.model, 'model');

  if (problems.length > 0) return fail(id, `${keys.file}: ${problems.join('; ')}`);
  const shown = [keys.version, keys.flavor, keys.variant].filter((kv): kv is KeyValue => kv !== undefined);
  return pass(id, `${keys.file}: ${shown.map((kv) => `${kv.key}=${kv.value}`).join(', ')} agree with the tag${flavorNote}`);
}

// ── upstream-pin ────────────────────────────────────────────────────────────────────────────

/** [MAJOR, MINOR] of a release string (`15.4`, `22.04`, `3.18.4`), or undefined. */
function majorMinor(version: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  return m === null ? undefined : [Number(m[1]), Number(m[2])];
}

export function checkUpstreamPin({ tag, files, flavor }: ImageFacts): ImageCheck {
  const id = 'upstream-pin';
  if (flavor.candidates.length === 0) return skip(id, `flavor unknown: ${flavor.reason ?? 'not determined'}`);
  const name = flavorText(flavor);
  const pin = flavor.pin;
  const up = upstreamRelease(files);
  const seen = up === undefined ? '' : `; the image has ${up.id} ${up.versionId}`.trimEnd();
  if (pin === undefined) {
    return skip(id, flavor.candidates.length > 1
      ? `${name} have different pins at ${tag.version}${seen}`
      : `the catalog has no pin for ${name} at ${tag.version}${seen}`);
  }
  if (pin.release === null) return skip(id, `${name} is unpinned at ${tag.version}: it tracks upstream ${pin.os}${seen}`);
  if (up === undefined) {
    return fail(id, `no upstream release file (${USR_OS_RELEASE} or ${ALPINE_RELEASE}) in the image; ${name} ${tag.version} is pinned to ${pin.os} ${pin.release}`);
  }
  const pinned = `${name} ${tag.version} is pinned to ${pin.os} ${pin.release}`;
  if (up.id !== pin.os) return fail(id, `${up.file}: ID=${up.id}, but ${pinned}`);
  const have = majorMinor(up.versionId);
  const want = majorMinor(pin.release);
  if (have === undefined) return fail(id, `${up.file}: VERSION_ID="${up.versionId}" names no release, but ${pinned}`);
  if (want === undefined || have[0] !== want[0] || have[1] !== want[1]) {
    return fail(id, `${up.file}: ${up.id} ${up.versionId}, but ${pinned}`);
  }
  return pass(id, `${up.id} ${up.versionId} (${up.file}) matches the pin of ${name} ${tag.version}: ${pin.os} ${pin.release}`);
}

// ── arch ────────────────────────────────────────────────────────────────────────────────────

export interface ArchFacts {
  /** `architecture` of the image config. */
  readonly configArch: string | undefined;
  readonly tag: ReleaseTag;
  readonly flavor: FlavorIdentity;
  /** `--arch`, when given. */
  readonly requested?: string | undefined;
}

export function checkArch({ configArch, tag, flavor, requested }: ArchFacts): ImageCheck {
  const id = 'arch';
  const arch = normalizeArch(configArch ?? '');
  if (arch === '') return fail(id, 'the image config names no architecture');
  const problems: string[] = [];
  const compared: string[] = [];
  if (tag.arch !== undefined) {
    compared.push('the tag');
    if (normalizeArch(tag.arch) !== arch) problems.push(`the tag says ${tag.arch}`);
  }
  if (requested !== undefined) {
    compared.push('--arch');
    if (normalizeArch(requested) !== arch) problems.push(`--arch asked for ${requested}`);
  }
  if (flavor.arches !== undefined && flavor.candidates.length > 0) {
    compared.push(`flavor ${flavorText(flavor)} (${flavor.arches.join(', ')})`);
    if (!flavor.arches.includes(arch)) problems.push(`${flavorText(flavor)} ships ${flavor.arches.join(', ')} only`);
  }
  if (problems.length > 0) return fail(id, `the config says ${arch}, but ${problems.join('; ')}`);
  if (compared.length === 0) return skip(id, `the config says ${arch}; nothing to compare with (flavor unknown: ${flavor.reason ?? 'not determined'})`);
  return pass(id, `${arch} (config) matches ${compared.join(' and ')}`);
}

// ── signatures ──────────────────────────────────────────────────────────────────────────────

/** What the signature check found (src/operations/signature.ts), for the verdict. */
export interface SignatureOutcome {
  /** Fail when no signature satisfies the policy, even when none is found (a key or identity given, or --require-signature). */
  required: boolean;
  policy: string;
  verified: boolean;
  found: number;
  /** Why each signature found failed. */
  reasons: readonly string[];
  identity?: string | undefined;
}

/**
 * The signatures of `digest` (the index digest for a multi-arch image): the policy's verdict when
 * one was checked, else cosign's attachment tags as information.
 */
export function checkSignatures(digest: string, tags: readonly string[], outcome?: SignatureOutcome): ImageCheck {
  if (outcome !== undefined) {
    if (outcome.verified) return pass('signatures', `signed${outcome.identity === undefined ? '' : ` by ${outcome.identity}`}: satisfies ${outcome.policy}`);
    if (outcome.found > 0) return fail('signatures', `no signature of ${outcome.found} satisfies ${outcome.policy}: ${outcome.reasons.join('; ')}`);
    if (outcome.required) return fail('signatures', `no signature found for ${digest.slice(0, 19)}… (${outcome.policy} required)`);
    return checkSignatures(digest, tags);
  }
  const hex = digest.startsWith('sha256:') && isDigest(digest) ? digest.slice(7) : undefined;
  if (hex === undefined) return { id: 'signatures', ok: 'skipped', message: `cosign names attachments by sha256 digests; ${digest} is not one`, info: true };
  const have = new Set(tags);
  const kinds = [['sig', 'signature'], ['sbom', 'SBOM'], ['att', 'attestation']] as const;
  const found = kinds.filter(([ext]) => have.has(`sha256-${hex}.${ext}`));
  const short = `sha256-${hex.slice(0, 12)}…`;
  const message =
    found.length === 0
      ? `no cosign signature, SBOM or attestation tag for ${digest.slice(0, 19)}…`
      : `${found.map(([ext, what]) => `${what} (${short}.${ext})`).join(', ')}; missing: ${kinds.filter((k) => !found.includes(k)).map(([, w]) => w).join(', ') || 'none'}`;
  return { id: 'signatures', ok: true, message, info: true };
}
