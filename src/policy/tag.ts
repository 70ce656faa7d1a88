/**
 * The Kairos image tag grammar, every era (docs/kairos-images.md), pure.
 * Hand-written because no library knows these tags: `semver` parses one version, but a Kairos tag
 * packs up to two versions (Kairos and the Kubernetes distribution's, the `+` written `-`), an
 * artifact suffix and, from v2.4.2, a flavor-release/variant/arch/model prefix; and registries mix
 * them with noise tags.
 *
 *   tag       := [ line "-" ] kairos [ k8s ] [ "-uki" ] [ artifact ]
 *   line      := flavorRelease "-" ("core" | "standard") "-" arch "-" model      (v2.4.2+ naming)
 *   kairos    := "v" MAJOR "." MINOR "." PATCH [ "-" pre ]     pre: dot-separated [0-9A-Za-z]+, no "-"
 *   k8s       := "-" distro k8sv            attached, v1 – v3.3 and v3.4.2: -k3sv1.26.1-k3s1
 *              | "-" distro k8sv-without-v  bare, v3.4.0 – v3.4.1:        -k3s1.32.1-k3s1
 *              | "-" distro "-" k8sv        dashed, v3.5.0 on:             -k3s-v1.32.1-k3s1, -k0s-v1.32.1-k0s.0
 *   distro    := "k3s" | "k0s"              (k8sv: the distribution's version, src/version/k8s.ts)
 *   artifact  := ".img"   (version-first naming)   |   "-img"   (v2.4.2+ naming)
 *
 * Sources of the k8s forms: kairos-sdk `versioneer` (`<prefix><softwareVersion>`, `+` → `-`) for
 * v2.4.2 – v3.3; kairos-io/kairos `.github/workflows/reusable-release.yaml` at v3.4.0 (`sed
 * 's/^v//; s/+/-/g'`), at v3.4.2 (`sed 's/+/-/g'`), at v3.5.0 (`-<distro>-<version>`), and
 * kairos-factory-action's `reusable-factory.yaml` (`$VERSION-$KUBERNETES_DISTRO-$VERSION`) from
 * v3.5.1 on. `-uki`: the release workflows' trusted-boot images (v3.0.0 on).
 *
 * The line comes first: a flavor release may itself look like a version (Hadron's `v0.2.0` in
 * `v0.2.0-core-amd64-generic-v4.1.0`), so the Kairos version is the first `v<digit>` after
 * `-<core|standard>-<arch>-<model>`. The ambiguity between a semver pre-release and the k8s
 * suffix (`v1.6.0-rc1` vs `v1.5.1-k3sv1.26.1-k3s1`) is settled by the grammar: a pre-release never
 * starts with a distribution name and never contains `-` (Kairos pre-releases are `rc1`, `alpha3`,
 * `beta1`, `RC1`), so a pre-release stays a pre-release whatever the k8s suffix looks like.
 * `formatTag` writes the registry form (the form the tag was read in), so
 * `formatTag(parseTag(x)) === x` for every tag that can exist in a registry.
 *
 * Naming eras are decided by syntax in `parseTag` (so listings never hide a tag); `tagProblem`
 * is stricter and also flags a naming that contradicts its version's era (for `verify --offline`).
 */
import { compareKairos, isKairosPrerelease, isKairosVersion } from '../version/kairos.js';
import { formatK8s, K8S_DISTRO_NAMES, readK8s, type K8sDistro } from '../version/k8s.js';

export type Era = 'v1' | 'v2.4.2+';
export type Variant = 'core' | 'standard';

/** A tag that names a Kairos image or its artifact. */
export interface ReleaseTag {
  readonly kind: 'release' | 'prerelease';
  /** 'v1': version-first naming (v1.0 – v2.4.1); 'v2.4.2+': flavor-release-prefixed naming. */
  readonly era: Era;
  /** The Kairos (or provider) version as written, e.g. `v1.5.1`, `v1.6.0-rc1`. */
  readonly version: string;
  /** The same without `v`, e.g. `1.5.1`. */
  readonly semver: string;
  /** k3s version with its `+` restored, e.g. `v1.26.1+k3s1`; absent on core and k0s images. */
  readonly k3s?: string | undefined;
  /** k0s version with its `+` restored, e.g. `v1.32.1+k0s.0` (v3.4.0 on). */
  readonly k0s?: string | undefined;
  /** How the Kubernetes suffix is written when not `-<distro>v<version>` (see the grammar; `k8sOf`). */
  readonly k8sForm?: Exclude<K8sForm, 'attached'> | undefined;
  /** A trusted-boot (UKI) image: the tag ends in `-uki` (before any artifact suffix). */
  readonly uki?: true | undefined;
  /** The tag names the `.img` / `-img` disk-image artifact, not the OS image. */
  readonly artifact: boolean;
  /** v2.4.2+ only: upstream release, e.g. `22.04`, `leap-15.5`, `3.19`. */
  readonly flavorRelease?: string | undefined;
  /** v2.4.2+ only. */
  readonly variant?: Variant | undefined;
  /** v2.4.2+ only, e.g. `amd64`, `arm64`. */
  readonly arch?: string | undefined;
  /** v2.4.2+ only, e.g. `generic`, `rpi3`, `rpi4`. */
  readonly model?: string | undefined;
  readonly raw: string;
}

/** How a tag writes its Kubernetes suffix (see the grammar above). */
export type K8sForm = 'attached' | 'bare' | 'dashed';

export interface K8sSuffix {
  readonly distro: K8sDistro;
  /** Canonical, e.g. `v1.32.1+k0s.0`. */
  readonly version: string;
  readonly form: K8sForm;
}

export type NoiseReason =
  | 'latest'
  | 'branch'
  | 'git-hash'
  | 'cosign-signature'
  | 'cosign-attestation'
  | 'sbom'
  | 'unknown';

export interface NoiseTag {
  readonly kind: 'noise';
  readonly reason: NoiseReason;
  readonly raw: string;
}

export type KairosTag = ReleaseTag | NoiseTag;

export type TagClass = 'release' | 'prerelease' | 'artifact' | 'noise';

/** Branch names seen as tags on Kairos repositories (CI pushes of a branch head). */
const BRANCH_NAMES = new Set(['master', 'main', 'develop', 'dev', 'next', 'nightly', 'edge']);
const GIT_HASH = /^[0-9a-f]{7,40}$/;
const COSIGN = /^sha256-[0-9a-f]{64}\.(sig|att|sbom)$/;
const COSIGN_REASON: Record<string, NoiseReason> = {
  sig: 'cosign-signature',
  att: 'cosign-attestation',
  sbom: 'sbom',
};
const VERSION_START = /(?:^|-)v\d/;
/** `-core-<arch>-` or `-standard-<arch>-`: where a v2.4.2+ line ends, the model following. */
const LINE_VARIANT = /-(?:core|standard)-[a-z0-9]+-/;
const K8S_START = new RegExp(`^-(${K8S_DISTRO_NAMES.join('|')})`);
const LINE = /^([A-Za-z0-9][A-Za-z0-9._-]*?)-(core|standard)-([a-z0-9]+)-([a-z0-9]+(?:-[a-z0-9]+)*)$/;
/** First Kairos release published with the flavor-release-prefixed naming (docs/kairos-images.md). */
const PREFIXED_NAMING_SINCE = '2.4.2';

type Analysis =
  | { readonly ok: true; readonly tag: ReleaseTag }
  | { readonly ok: false; readonly reason: NoiseReason; readonly problem: string };

function noise(reason: NoiseReason, problem: string): Analysis {
  return { ok: false, reason, problem };
}

function analyze(raw: string): Analysis {
  const quoted = JSON.stringify(raw);
  if (raw === 'latest') return noise('latest', `${quoted} is a moving tag, not a Kairos release`);
  if (BRANCH_NAMES.has(raw)) return noise('branch', `${quoted} is a branch tag, not a Kairos release`);
  const cosign = COSIGN.exec(raw);
  if (cosign) {
    const reason = COSIGN_REASON[cosign[1] ?? ''] ?? 'unknown';
    return noise(reason, `${quoted} is a cosign ${cosign[1]} attachment tag, not a Kairos release`);
  }
  if (GIT_HASH.test(raw)) return noise('git-hash', `${quoted} is a git-hash tag, not a Kairos release`);
  const problem = (text: string): Analysis => noise('unknown', text);

  let body = raw;
  let artifactSuffix: '.img' | '-img' | undefined;
  if (body.endsWith('.img') || body.endsWith('-img')) {
    artifactSuffix = body.endsWith('.img') ? '.img' : '-img';
    body = body.slice(0, -4);
  }

  let uki = false;
  if (body.endsWith('-uki')) {
    uki = true;
    body = body.slice(0, -4);
  }

  const start = versionStart(body);
  if (!start) {
    const bare = /(?:^|-)(\d+\.\d+\.\d+)(?:-|$)/.exec(body);
    if (bare) return problem(`${quoted} lacks the "v" of its version: Kairos tags are written v${bare[1]}`);
    if (body.endsWith('-') || /(?:^|-)v$/.test(body)) return problem(`${quoted} has no version after "v"`);
    return problem(`${quoted} has no Kairos version vMAJOR.MINOR.PATCH`);
  }
  const versionAt = start.at;
  const prefix = versionAt === 0 ? '' : body.slice(0, versionAt - 1);
  if (versionAt > 0 && prefix === '') return problem(`${quoted} starts with "-"`);
  const rest = body.slice(versionAt);

  const core = /^v(\d+(?:\.\d+)*)/.exec(rest);
  if (!core || core[1] === undefined) return problem(`${quoted} has no Kairos version vMAJOR.MINOR.PATCH`);
  const numbers = core[1];
  if (numbers.split('.').length !== 3) return problem(`"v${numbers}" is not MAJOR.MINOR.PATCH`);
  let tail = rest.slice(core[0].length);

  let pre: string | undefined;
  if (tail.startsWith('-') && !K8S_START.test(tail)) {
    const end = tail.indexOf('-', 1);
    pre = end < 0 ? tail.slice(1) : tail.slice(1, end);
    tail = end < 0 ? '' : tail.slice(end);
    if (!isKairosPrerelease(pre)) return problem(`pre-release "${pre}" of "v${numbers}" is not a semver pre-release`);
  }
  const version = pre === undefined ? numbers : `${numbers}-${pre}`;
  if (!isKairosVersion(`v${version}`)) {
    return problem(`"v${version}" is not a semantic version (no leading zeros in numbers)`);
  }

  let k8s: K8sSuffix | undefined;
  const distroMatch = K8S_START.exec(tail);
  if (distroMatch) {
    const distro = distroMatch[1] as K8sDistro;
    const rest = tail.slice(distroMatch[0].length);
    const form: K8sForm = rest.startsWith('-v') ? 'dashed' : rest.startsWith('v') ? 'attached' : 'bare';
    const text = form === 'dashed' ? rest.slice(1) : form === 'bare' ? `v${rest}` : rest;
    const read = readK8s(text, distro);
    if (!read.ok && read.problem === 'leading-zero-build') return problem(`${distro} build "${distro}${read.build}" has a leading zero`);
    if (!read.ok) return problem(`${distro} suffix "${distro}${rest}" is not a ${distro} version (${distro}vMAJOR.MINOR.PATCH-${distro}N)`);
    k8s = { distro, version: formatK8s(read.version), form };
    tail = '';
  }
  const k3s = k8s?.distro === 'k3s' ? k8s.version : undefined;
  const k0s = k8s?.distro === 'k0s' ? k8s.version : undefined;
  const k8sForm = k8s === undefined || k8s.form === 'attached' ? undefined : k8s.form;
  if (tail !== '') return problem(`unexpected "${tail}" after the version in ${quoted}`);

  const common = {
    kind: pre === undefined ? ('release' as const) : ('prerelease' as const),
    version: `v${version}`,
    semver: version,
    k3s,
    k0s,
    k8sForm,
    uki: uki ? (true as const) : undefined,
    artifact: artifactSuffix !== undefined,
    raw,
  };

  if (prefix === '') {
    if (artifactSuffix === '-img') {
      return problem(`${quoted}: version-first tags mark artifacts with ".img", not "-img"`);
    }
    if (uki) return problem(`${quoted}: version-first tags have no "-uki" images`);
    if (k8s !== undefined && (k8s.distro !== 'k3s' || k8s.form !== 'attached')) {
      const text = tail === '' ? formatK8sSuffix(k8s).slice(1) : '';
      return problem(`k3s suffix "${text}" is not a k3s version (k3svMAJOR.MINOR.PATCH-k3sN): version-first tags write -k3sv<k3s version>`);
    }
    return { ok: true, tag: { ...common, era: 'v1' } };
  }

  const line = LINE.exec(prefix);
  if (!line) {
    return problem(`"${prefix}" is not <flavorRelease>-<core|standard>-<arch>-<model>`);
  }
  if (artifactSuffix === '.img') {
    return problem(`${quoted}: flavor-prefixed tags mark artifacts with "-img", not ".img"`);
  }
  const variant = line[2] as Variant;
  if (variant === 'core' && k8s !== undefined) return problem(`${quoted}: a core image carries no ${k8s.distro === 'k3s' ? 'k3s' : 'Kubernetes'} suffix`);
  if (variant === 'standard' && k8s === undefined) return problem(`${quoted}: a standard image needs a k3s suffix`);
  return {
    ok: true,
    tag: { ...common, era: 'v2.4.2+', flavorRelease: line[1], variant, arch: line[3], model: line[4] },
  };
}

/** Where the Kairos version starts: after the v2.4.2+ line when there is one, else at the first `v<digit>`. */
function versionStart(body: string): { at: number } | undefined {
  const line = LINE_VARIANT.exec(body);
  if (line !== null && line.index > 0) {
    const after = line.index + line[0].length;
    const v = /-v\d/.exec(body.slice(after));
    if (v !== null) return { at: after + v.index + 1 };
  }
  const start = VERSION_START.exec(body);
  if (start === null) return undefined;
  return { at: /^v\d/.test(body) ? 0 : start.index + 1 };
}

function withoutUndefined(tag: ReleaseTag): ReleaseTag {
  return Object.fromEntries(Object.entries(tag).filter(([, v]) => v !== undefined)) as unknown as ReleaseTag;
}

export function parseTag(tag: string): KairosTag {
  const a = analyze(tag);
  return a.ok ? withoutUndefined(a.tag) : { kind: 'noise', reason: a.reason, raw: tag };
}

export function isReleaseTag(tag: KairosTag): tag is ReleaseTag {
  return tag.kind !== 'noise';
}

/** The registry form of a tag (k3s `+` written `-`); noise tags come back as they were. */
export function formatTag(tag: KairosTag): string {
  if (tag.kind === 'noise') return tag.raw;
  const suffix = k8sOf(tag);
  const k8s = suffix === undefined ? '' : formatK8sSuffix(suffix);
  const version = `v${tag.semver}`;
  const uki = tag.uki === true ? '-uki' : '';
  if (tag.era === 'v1') return `${version}${k8s}${tag.artifact ? '.img' : ''}`;
  return `${tag.flavorRelease}-${tag.variant}-${tag.arch}-${tag.model}-${version}${k8s}${uki}${tag.artifact ? '-img' : ''}`;
}

/** The Kubernetes suffix of a tag, whichever distribution (undefined on core images). */
export function k8sOf(tag: Pick<ReleaseTag, 'k3s' | 'k0s' | 'k8sForm'>): K8sSuffix | undefined {
  const form: K8sForm = tag.k8sForm ?? 'attached';
  if (tag.k3s !== undefined) return { distro: 'k3s', version: tag.k3s, form };
  if (tag.k0s !== undefined) return { distro: 'k0s', version: tag.k0s, form };
  return undefined;
}

/** The Kubernetes version a tag carries, whichever distribution (`v1.26.1+k3s1`, `v1.32.1+k0s.0`). */
export function k8sVersionOf(tag: Pick<ReleaseTag, 'k3s' | 'k0s'>): string | undefined {
  return tag.k3s ?? tag.k0s;
}

/** `-k3sv1.26.1-k3s1`, `-k3s1.32.1-k3s1` or `-k0s-v1.32.1-k0s.0`, as the suffix was read. */
export function formatK8sSuffix(k: K8sSuffix): string {
  const tagForm = k.version.replace('+', '-');
  switch (k.form) {
    case 'attached': return `-${k.distro}${tagForm}`;
    case 'bare': return `-${k.distro}${tagForm.slice(1)}`;
    case 'dashed': return `-${k.distro}-${tagForm}`;
  }
}

export function classifyTag(tag: string | KairosTag): TagClass {
  const t = typeof tag === 'string' ? parseTag(tag) : tag;
  if (t.kind === 'noise') return 'noise';
  return t.artifact ? 'artifact' : t.kind;
}

/**
 * Why a tag is not a valid Kairos tag, or undefined when it is. Stricter than `parseTag`: the
 * naming must also belong to its version's era (flavor-prefixed tags start at v2.4.2).
 */
export function tagProblem(tag: string): string | undefined {
  const a = analyze(tag);
  if (!a.ok) return a.problem;
  const t = a.tag;
  if (t.era === 'v2.4.2+' && compareKairos(t.version, `v${PREFIXED_NAMING_SINCE}-0`) < 0) {
    return `"${tag}": flavor-prefixed tags start at v${PREFIXED_NAMING_SINCE}, but ${t.version} is older`;
  }
  if (t.era === 'v1' && compareKairos(t.version, `v${PREFIXED_NAMING_SINCE}`) >= 0) {
    return `"${tag}": from v${PREFIXED_NAMING_SINCE} Kairos tags start with <flavorRelease>-<variant>-<arch>-<model>-`;
  }
  return undefined;
}

/** The OS-image tag an artifact tag belongs to (the tag itself when it is no artifact). */
export function imageOf(tag: ReleaseTag): ReleaseTag {
  if (!tag.artifact) return tag;
  const image = { ...tag, artifact: false };
  return { ...image, raw: formatTag(image) };
}

/** The artifact tag of an image tag. */
export function artifactOf(tag: ReleaseTag): ReleaseTag {
  if (tag.artifact) return tag;
  const artifact = { ...tag, artifact: true };
  return { ...artifact, raw: formatTag(artifact) };
}
