/**
 * `releases`: what one system can upgrade to. The system is read from its release file (a running
 * system's /etc/kairos-release or /etc/os-release), from an image's top layers (as `verify` reads
 * them), or named by catalog flavor and variant; its flavor's tags are listed (the registry of
 * KAIROS_REGISTRY_AND_ORG unless --registry); the candidates and the upgrade plan are the pure
 * functions of src/policy/upgrade.ts, the changelog pages the catalog's.
 */
import { changelogUrls, kairosLineDefaults, loadCatalog, normalizeArch, type Catalog } from '../catalog/index.js';
import { KairosImgError, usageError } from '../errors.js';
import { formatPlatform, hostArch as defaultHostArch } from '../oci/index.js';
import { k8sMinor } from '../version/index.js';
import {
  KAIROS_RELEASE,
  OS_RELEASE,
  RELEASE_FILES,
  identifyFlavor,
  parseTag,
  readSystemRelease,
  releaseFilesDecided,
  upgradeCandidates,
  upgradePlan,
  evaluateFlavorTag,
  onSystemLine,
  k8sVersionOf,
  type Candidate,
  type SystemRelease,
  type TagEntry,
  type UpgradePlan,
  type Verdict,
} from '../policy/index.js';
import { eraFor, normalizeVersion, pinFor, findFlavor } from '../catalog/kairos/resolve.js';
import { parseReference, repositoryName, rewriteRegistry, type Reference } from '../reference/reference.js';
import { readImageFiles } from '../unpack/read-files.js';
import { tagSource } from './client.js';
import { defaultCacheDir } from '../store/index.js';
import { lazyClient, withImage, type ImageSpec, type OpenedImage, type OperationOptions } from './common.js';
import { emitter, type ReleasesEvent } from './events.js';
import { entriesOf, flavorTags } from './tags.js';
import { diffImages, type DiffReport } from './diff.js';
import { layerBlobs, releaseFilesOf } from './image-files.js';

/** Which system: its release file, an image, or a catalog flavor and variant. */
export type SystemSource =
  | { kind: 'release-file'; text: string; path: string }
  | { kind: 'image'; image: ImageSpec }
  | {
      kind: 'catalog';
      flavor: string;
      variant: string;
      /** The release the system runs; without it every release is a candidate. */
      version?: string | undefined;
      flavorRelease?: string | undefined;
      model?: string | undefined;
      k3s?: string | undefined;
      k0s?: string | undefined;
      kubernetes?: string | undefined;
      uki?: boolean | undefined;
    };

export interface ReleasesOptions extends OperationOptions<ReleasesEvent> {
  system: SystemSource;
  /** Include pre-releases among the candidates. */
  pre?: boolean | undefined;
  /** The upgrade plan's target (a tag or a Kairos version); default: the newest supported candidate. */
  to?: string | undefined;
  /** Also diff the current image with the plan's target (`diff`). */
  diff?: boolean | undefined;
  catalog?: Catalog | undefined;
}

export interface CurrentSystem {
  flavor: string;
  flavorRelease?: string | undefined;
  variant: string;
  arch?: string | undefined;
  model?: string | undefined;
  version?: string | undefined;
  k8s?: { distro: string; version?: string | undefined } | undefined;
  uki: boolean;
  /** Where the candidates were looked for. */
  repositories: string[];
  /** The image the system runs, when known. */
  reference?: string | undefined;
  source: string;
  verdict?: Verdict | undefined;
}

export interface ReleaseCandidate {
  tag: string;
  reference: string;
  version: string;
  k8s?: string | undefined;
  verdict: Verdict;
  /** The changelog pages of every release from the current one (exclusive) to this one. */
  changelogs: string[];
}

export interface ReleasesReport {
  current: CurrentSystem;
  candidates: ReleaseCandidate[];
  plan?: (UpgradePlan & { reference: string }) | undefined;
  /** The current image against the plan's target (with `diff`). */
  diff?: DiffReport | undefined;
}

function withRegistry(registryAndOrg: string, registry: string | undefined): string {
  if (registry === undefined) return registryAndOrg;
  const slash = registryAndOrg.indexOf('/');
  return slash < 0 ? registry : `${registry}${registryAndOrg.slice(slash)}`;
}

function missingKeys(path: string, missing: readonly string[]): KairosImgError {
  return usageError('RELEASE_FILE_INCOMPLETE', `${path} lacks ${missing.join(', ')}`,
    'point --release-file at a Kairos system\'s /etc/kairos-release (or /etc/os-release of older systems), or name the image with --image or <flavor> <variant>');
}

/** The system from an image's release files, read from its top layers only. */
async function systemOfImage(opts: ReleasesOptions, image: ImageSpec, emit: (e: ReleasesEvent) => void, client: ReturnType<typeof lazyClient>): Promise<{ system: SystemRelease; reference: Reference }> {
  const hostArch = opts.hostArch ?? defaultHostArch();
  return withImage({
    image, arch: opts.arch, registry: opts.registry, hostArch, tags: client.tags(), client: client.get, env: opts.env, signal: opts.signal,
    spoolDir: defaultCacheDir(opts.env ?? process.env), emit,
  }, (target) => systemFrom(opts, target, emit));
}

async function systemFrom(opts: ReleasesOptions, target: OpenedImage, emit: (e: ReleasesEvent) => void): Promise<{ system: SystemRelease; reference: Reference }> {
  const ref = target.reference;
  const m = await target.source.manifest({ platform: target.platform, signal: opts.signal });
  emit({
    type: 'manifest', digest: m.descriptor.digest, indexDigest: m.index?.descriptor.digest, platform: formatPlatform(m.descriptor.platform ?? target.platform),
    layers: m.manifest.layers.length, size: m.manifest.layers.reduce((a, l) => a + l.size, 0), fromCache: false,
  });
  const files = await readImageFiles({
    layers: layerBlobs(target.source, m.manifest.layers),
    paths: RELEASE_FILES,
    decided: (view) => releaseFilesDecided(releaseFilesOf(view)),
    signal: opts.signal,
    onLayer: (i) => emit({ type: 'release-files-layer', layer: i, layers: m.manifest.layers.length }),
  });
  emit({ type: 'release-files', layersRead: files.layersRead, layersTotal: files.layersTotal, bytesRead: files.bytesRead, bytesTotal: files.bytesTotal });
  const text = (path: string): string | undefined => {
    const l = files.lookup(path);
    return l.state === 'present' ? l.content.toString('utf8') : undefined;
  };
  const kr = text(KAIROS_RELEASE);
  const osr = text(OS_RELEASE);
  const readings = [kr === undefined ? undefined : readSystemRelease(kr, KAIROS_RELEASE), osr === undefined ? undefined : readSystemRelease(osr, OS_RELEASE)];
  const ok = readings.find((r) => r?.ok === true);
  if (ok === undefined || !ok.ok) {
    const first = readings.find((r) => r !== undefined);
    throw usageError('NOT_A_KAIROS_IMAGE', `${repositoryName(ref)}:${ref.tag ?? ''} carries no Kairos release keys${first !== undefined && !first.ok ? ` (${first.source} lacks ${first.missing.join(', ')})` : ''}`,
      'name a Kairos OS image (not an artifact), or the system by --release-file or <flavor> <variant>');
  }
  const system = ok.system;
  // The image says where it lives, when its keys do not.
  const org = ref.repository.includes('/') ? ref.repository.slice(0, ref.repository.lastIndexOf('/')) : '';
  const own = `${ref.registry}${org === '' ? '' : `/${org}`}`;
  return {
    system: {
      ...system,
      registryAndOrg: opts.registry === undefined && system.registryAndOrg !== undefined ? system.registryAndOrg : own,
      image: system.image ?? `${repositoryName(ref)}:${ref.tag ?? ''}`,
      arch: system.arch ?? (target.platform.architecture === '' ? undefined : normalizeArch(target.platform.architecture)),
    },
    reference: ref,
  };
}

/** A catalog-named system: the flavor's family and defaults. */
function systemOfCatalog(catalog: Catalog, s: Extract<SystemSource, { kind: 'catalog' }>, hostArch: string, arch: string | undefined): SystemRelease {
  const flavor = findFlavor(catalog, s.flavor);
  const defaults = kairosLineDefaults(catalog, { flavor: s.flavor, variant: s.variant, arch, model: s.model, hostArch });
  const version = s.version === undefined ? undefined : normalizeVersion(s.version);
  const pin = version === undefined ? undefined : pinFor(flavor, version);
  const distro = s.k0s !== undefined || s.kubernetes === 'k0s' ? 'k0s' : 'k3s';
  const k8s = s.variant === 'standard' ? { distro, version: s.k0s ?? s.k3s } : undefined;
  // A release of the flavor-release naming is looked for in the family repository, like a release file's.
  const era = version === undefined ? undefined : eraFor(catalog, version);
  const familyNaming = era !== undefined && (era.image[s.variant]?.tag.includes('{flavorRelease}') ?? false);
  return {
    flavor: familyNaming ? flavor.family : s.flavor,
    flavorRelease: s.flavorRelease ?? pin?.flavorRelease,
    variant: s.variant,
    arch: defaults.arch,
    model: defaults.model,
    version,
    k8s,
    uki: s.uki === true,
    naming: familyNaming ? 'flavor-release' : 'version-first',
    source: 'catalog',
  };
}

export async function listReleases(opts: ReleasesOptions): Promise<ReleasesReport> {
  const emit = emitter(opts.onEvent);
  const catalog = opts.catalog ?? (await loadCatalog('kairos'));
  const client = lazyClient(opts, emit);
  const hostArch = opts.hostArch ?? defaultHostArch();

  let system: SystemRelease;
  let currentReference: string | undefined;
  if (opts.system.kind === 'release-file') {
    const r = readSystemRelease(opts.system.text, opts.system.path);
    if (!r.ok) throw missingKeys(opts.system.path, r.missing);
    system = r.system;
  } else if (opts.system.kind === 'image') {
    const got = await systemOfImage(opts, opts.system.image, emit, client);
    system = got.system;
    currentReference = `${repositoryName(got.reference)}:${got.reference.tag ?? ''}`;
  } else {
    system = systemOfCatalog(catalog, opts.system, hostArch, opts.arch);
  }
  emit({ type: 'system', source: system.source, flavor: system.flavor, version: system.version });

  // The flavor's tags: the family repository for v2.4.2+ systems, every repository of the catalog flavor otherwise.
  const lists: Array<{ repository: string; tags: string[] }> = [];
  let defaults: { arch?: string | undefined; model?: string | undefined } = { arch: system.arch ?? (opts.arch === undefined ? undefined : normalizeArch(opts.arch)), model: system.model };
  const registryAndOrg = withRegistry(system.registryAndOrg ?? `${catalog.registry}/${catalog.namespace}`, opts.registry);
  if (system.naming === 'flavor-release') {
    const repository = parseReference(`${registryAndOrg}/${system.flavor}`);
    const tags = await tagSource(client.get()).listTags(repository, opts.signal);
    if (tags === undefined) {
      throw new KairosImgError('NAME_UNKNOWN', `${repositoryName(repository)} does not exist`, { hint: 'check KAIROS_REGISTRY_AND_ORG, or --registry' });
    }
    lists.push({ repository: repositoryName(repository), tags });
    emit({ type: 'tags', repository: repositoryName(repository), count: tags.length });
  } else {
    const named = catalog.flavors.some((f) => f.name === system.flavor);
    let flavors = named ? [system.flavor] : [];
    const image = system.image === undefined ? undefined : rewriteRegistry(parseReference(system.image), catalog.registry, opts.registry);
    if (!named && image?.tag !== undefined) {
      const t = parseTag(image.tag);
      if (t.kind !== 'noise') flavors = identifyFlavor(catalog, image.repository, t).candidates.map((f) => f.name);
    }
    if (flavors.length === 0) {
      throw usageError('UNKNOWN_FLAVOR', `the catalog has no flavor "${system.flavor}" (from ${system.source})`, 'name the system by <flavor> <variant> instead');
    }
    for (const flavor of flavors) {
      const org = image !== undefined && image.repository.includes('/') ? image.repository.slice(0, image.repository.lastIndexOf('/')) : undefined;
      const found = await flavorTags({
        client: client.get(), image: { flavor, variant: system.variant, arch: defaults.arch, model: system.model, flavorRelease: system.flavorRelease },
        registry: opts.registry ?? (image === undefined || image.registry === catalog.registry ? undefined : image.registry), namespace: org, hostArch, signal: opts.signal,
      });
      defaults = { arch: defaults.arch ?? found.defaults?.arch, model: defaults.model ?? found.defaults?.model };
      for (const l of found.lists) {
        lists.push(l);
        emit({ type: 'tags', repository: l.repository, count: l.tags.length });
      }
    }
    if (image !== undefined) currentReference ??= `${repositoryName(image)}:${image.tag ?? ''}`;
  }
  const entries: TagEntry[] = entriesOf(lists);
  const lineOpts = { pre: opts.pre, arch: defaults.arch, model: defaults.model };
  // A flavor that follows its upstream (Hadron, the rolling ubuntu) moves to newer flavor releases with Kairos.
  const lineSystem = followsUpstream(catalog, system) ? { ...system, flavorRelease: undefined } : system;
  const candidates = upgradeCandidates(lineSystem, entries, lineOpts);
  emit({ type: 'candidates', count: candidates.length });

  const changelogs = (version: string): string[] => changelogUrls(catalog, system.variant, version);
  const currentRepository = currentReference === undefined ? undefined : currentReference.slice(0, currentReference.lastIndexOf(':'));
  const planFor = (c: Candidate): UpgradePlan => upgradePlan({ system, target: c, entries, changelogs, currentRepository });

  // The current image among the listed tags (its verdict, its reference when the keys do not say it).
  const current = findCurrent(system, entries, lineOpts);
  if (current !== undefined) currentReference ??= `${current.repository}:${current.tag}`;
  const currentVerdict = current === undefined ? undefined : evaluateFlavorTag({ repository: current.repository, tag: current.tag, entries, options: { arch: defaults.arch, model: defaults.model } });

  const out: ReleaseCandidate[] = candidates.map((c) => ({
    tag: c.tag.raw,
    reference: `${c.repository}:${c.tag.raw}`,
    version: c.tag.version,
    ...(k8sVersionOf(c.tag) === undefined ? {} : { k8s: k8sVersionOf(c.tag) }),
    verdict: c.verdict,
    changelogs: planFor(c).releases.flatMap((r) => r.changelogs),
  }));

  let plan: ReleasesReport['plan'];
  const target = chooseTarget(candidates, opts.to, system.k8s?.version);
  if (target !== undefined) plan = { ...planFor(target), reference: `${target.repository}:${target.tag.raw}` };

  let diff: DiffReport | undefined;
  if (opts.diff === true && plan !== undefined) {
    if (currentReference === undefined) {
      throw usageError('MISSING_INPUT', 'the current image is unknown, so there is nothing to diff the target with', 'name the system by --image, or give --version so that its image can be found');
    }
    diff = await diffImages({
      ...opts, a: { reference: currentReference }, b: { reference: plan.reference }, registry: undefined,
      onEvent: (e) => { if (e.type === 'diff-layer' || e.type === 'diff-read' || e.type === 'diffed') emit(e); },
    });
  }

  return {
    diff,
    current: {
      flavor: system.flavor,
      flavorRelease: system.flavorRelease,
      variant: system.variant,
      arch: system.arch ?? defaults.arch,
      model: system.model ?? defaults.model,
      version: system.version,
      k8s: system.k8s,
      uki: system.uki,
      repositories: lists.map((l) => l.repository),
      reference: currentReference,
      source: system.source,
      verdict: currentVerdict,
    },
    candidates: out,
    plan,
  };
}

/**
 * Whether the system's flavor release is no fixed upstream release: the catalog flavors of its
 * family that fit it pin none (Hadron's releases, the rolling ubuntu), so newer ones are its own.
 */
function followsUpstream(catalog: Catalog, system: SystemRelease): boolean {
  if (system.naming !== 'flavor-release' || system.flavorRelease === undefined || system.version === undefined) return false;
  const t = parseTag(`${system.flavorRelease}-core-${system.arch ?? 'amd64'}-${system.model ?? 'generic'}-${system.version}`);
  if (t.kind === 'noise') return false;
  const id = identifyFlavor(catalog, system.flavor, { ...t, variant: system.variant === 'standard' ? 'standard' : 'core' });
  return id.candidates.length > 0 && id.candidates.every((f) => {
    const pin = pinFor(f, t.version);
    return pin !== undefined && pin.release === null && pin.flavorRelease === undefined;
  });
}

/** The tag of the release the system runs, among the listed ones. */
function findCurrent(system: SystemRelease, entries: readonly TagEntry[], opts: { arch?: string | undefined; model?: string | undefined }): TagEntry | undefined {
  if (system.version === undefined) return undefined;
  return entries.find((e) => {
    const t = parseTag(e.tag);
    if (t.kind === 'noise' || t.version !== system.version || !onSystemLine(system, t, opts)) return false;
    const k = k8sVersionOf(t);
    return system.k8s?.version === undefined || k === system.k8s.version;
  });
}

/**
 * `--to` (a tag, or a Kairos version), else the newest supported candidate (of the newest
 * release, the one with the system's Kubernetes minor when there is one), else the newest.
 */
function chooseTarget(candidates: readonly Candidate[], to: string | undefined, k8s: string | undefined): Candidate | undefined {
  if (to === undefined) {
    const supported = candidates.filter((c) => c.verdict.ok);
    const newest = supported[0] ?? candidates[0];
    if (newest === undefined || k8s === undefined) return newest;
    const sameRelease = (supported.length > 0 ? supported : candidates).filter((c) => c.tag.version === newest.tag.version);
    return sameRelease.find((c) => {
      const v = k8sVersionOf(c.tag);
      return v !== undefined && k8sMinor(v) === k8sMinor(k8s);
    }) ?? newest;
  }
  const byTag = candidates.find((c) => c.tag.raw === to);
  if (byTag !== undefined) return byTag;
  const version = /^\d/.test(to) ? `v${to}` : to;
  const byVersion = candidates.find((c) => c.tag.version === version);
  if (byVersion !== undefined) return byVersion;
  throw usageError('NO_SUCH_CANDIDATE', `--to ${to} is no upgrade candidate of this system`, candidates.length === 0 ? 'there is no candidate at all' : `candidates: ${candidates.slice(0, 5).map((c) => c.tag.raw).join(', ')}`);
}
