/**
 * flavor × variant × version × arch × model (× flavor release, Kubernetes distribution and
 * version, UKI) → image or artifact reference, by the catalog's data alone. Pure: no registry, no
 * file system.
 */
import { KairosImgError, usageError, type UsageCode } from '../../errors.js';
import { parseReference, rewriteRegistry, type Reference } from '../../reference/reference.js';
import { nearestName, normalizeArch } from '../names.js';
import { expandTemplate, tagShape, type TemplateValues } from './template.js';
import { parseTag, type ReleaseTag } from '../../policy/tag.js';
import { describeRange, inRange, normalizeKairos } from '../../version/kairos.js';
import { k3sTagForm, normalizeK3s } from '../../version/k3s.js';
import { isK8sDistro, k8sTagForm, normalizeK8s, type K8sDistro } from '../../version/k8s.js';
import { isFlavorRelease } from '../../version/flavor-release.js';
import type { ImageKind, ResolvedImage } from '../os.js';
import type { Catalog, Era, Flavor, Pin, RefTemplate, VariantInfo, VersionRange } from './types.js';

export interface ImageRequest {
  flavor: string;
  variant: string;
  /** Kairos version (`v1.5.1`; `1.5.1` is accepted). */
  version: string;
  arch?: string | undefined;
  model?: string | undefined;
  /** k3s version for standard images (`v1.26.1+k3s1` or `v1.26.1-k3s1`). */
  k3s?: string | undefined;
  /** k0s version for standard images that carry k0s (`v1.32.1+k0s.0`); implies `kubernetes: 'k0s'`. */
  k0s?: string | undefined;
  /** The Kubernetes distribution of a standard image (default: the variant's, k3s). */
  kubernetes?: string | undefined;
  /** The upstream release in the tag (`24.04`, `leap-15.6`, Hadron's `v0.2.0`); default: the flavor's pin. */
  flavorRelease?: string | undefined;
  /** A trusted-boot (UKI) image. */
  uki?: boolean | undefined;
  kind?: ImageKind;
  /** Replaces the catalog registry (mirrors, the local test registry). */
  registry?: string | undefined;
  /** The host's architecture, the default when the flavor ships it. */
  hostArch?: string | undefined;
}

/** A Kairos image: the pin is the catalog's, with its range and flavor release. */
export interface ResolvedKairosImage extends ResolvedImage {
  pin?: Pin | undefined;
}

function unknownName(what: string, input: string, names: readonly string[], code: UsageCode): KairosImgError {
  const near = nearestName(input, names);
  const suggestion = near === undefined ? '' : `; did you mean ${near}?`;
  return usageError(code, `unknown ${what} "${input}"${suggestion}`, `valid ${what}s: ${names.join(', ')}`);
}

export function findFlavor(catalog: Catalog, name: string): Flavor {
  const f = catalog.flavors.find((x) => x.name === name);
  if (f === undefined) throw unknownName('flavor', name, catalog.flavors.map((x) => x.name), 'UNKNOWN_FLAVOR');
  return f;
}

export function findVariant(catalog: Catalog, name: string): VariantInfo {
  const v = catalog.variants.find((x) => x.name === name);
  if (v === undefined) throw unknownName('variant', name, catalog.variants.map((x) => x.name), 'UNKNOWN_VARIANT');
  return v;
}

/**
 * The arch to use: the requested one (checked), else the host's when the flavor (and the board
 * model, boards being arm64) ships it, else the first that fits.
 */
export function chooseArch(flavor: Flavor, requested: string | undefined, hostArch: string | undefined, modelArches?: readonly string[]): string {
  const fits = flavor.arches.filter((a) => modelArches === undefined || modelArches.includes(a));
  if (requested !== undefined) {
    const arch = normalizeArch(requested);
    if (!flavor.arches.includes(arch)) {
      throw usageError('UNSUPPORTED_ARCH', `flavor ${flavor.name} is not published for ${requested}`, `its arches: ${flavor.arches.join(', ')} (pass --arch ${flavor.arches[0] ?? ''})`);
    }
    if (!fits.includes(arch)) {
      throw usageError('UNSUPPORTED_ARCH', `the board models of ${flavor.name} are not built for ${requested}`, `they are ${fits.join(', ')} images (pass --arch ${fits[0] ?? ''}, or --model generic)`);
    }
    return arch;
  }
  const host = hostArch === undefined ? undefined : normalizeArch(hostArch);
  if (host !== undefined && fits.includes(host)) return host;
  return fits[0] ?? flavor.arches[0] ?? 'amd64';
}

export function chooseModel(flavor: Flavor, requested: string | undefined): string {
  if (requested === undefined) return flavor.models[0] ?? 'generic';
  if (!flavor.models.includes(requested)) {
    throw usageError('UNSUPPORTED_MODEL', `flavor ${flavor.name} has no model "${requested}"`, `its models: ${flavor.models.join(', ')}`);
  }
  return requested;
}

/** `1.5.1` → `v1.5.1`; anything that is not a Kairos version is a usage error. */
export function normalizeVersion(input: string): string {
  const v = normalizeKairos(input);
  if (v === undefined) throw usageError('BAD_VERSION', `"${input}" is not a Kairos version`, 'versions look like v1.5.1, v2.4.3 or v1.6.0-rc1');
  return v;
}

export function normalizeK3sOption(input: string): string {
  const k = normalizeK3s(input);
  if (k === undefined) throw usageError('BAD_K3S_VERSION', `"${input}" is not a k3s version`, 'k3s versions look like v1.26.1+k3s1');
  return k;
}

export function eraFor(catalog: Catalog, version: string): Era {
  const era = catalog.eras.find((e) => inRange(version, e));
  if (era === undefined) {
    const first = catalog.eras[0]?.from;
    throw usageError('VERSION_OUT_OF_RANGE', `${catalog.name} ${version} is older than any release the catalog knows`, first === undefined ? undefined : `the first known release is ${first}`);
  }
  return era;
}

/** Throws a usage error naming the replacement when the flavor is not published at that version. */
export function checkExists(flavor: Flavor, variant: string, version: string, catalog?: Catalog): void {
  const ranges = flavor.exists.filter((x) => x.variants === undefined || x.variants.includes(variant));
  if (ranges.some((r) => inRange(version, r))) return;
  if (ranges.length === 0) {
    throw usageError('FLAVOR_NOT_PUBLISHED', `flavor ${flavor.name} has no ${variant} images`, `the ${flavor.name} flavor is published as: ${[...new Set(flavor.exists.flatMap((x) => x.variants ?? []))].join(', ')}`);
  }
  const ended = ranges.find((r) => r.until !== undefined && !inRange(version, { until: r.until }));
  if (ended?.replacedBy !== undefined && ended.replacedBy.length > 0) {
    const replacement = ended.replacedBy.join(' or ');
    throw usageError('FLAVOR_NOT_PUBLISHED', `flavor ${flavor.name} (${variant}) does not exist at ${version}: it was replaced by ${replacement} at ${ended.until}`, `use ${replacement}`);
  }
  const where = ranges.map((r) => describeRange(r)).join('; ');
  // Predecessors name this flavor as their replacement: for older versions, point back to them.
  const predecessors = (catalog?.flavors ?? []).filter((f) =>
    f.exists.some((x) => x.replacedBy?.includes(flavor.name) === true && (x.variants === undefined || x.variants.includes(variant)) && inRange(version, x)));
  const before = predecessors.length > 0 ? `; at ${version} it was ${predecessors.map((f) => f.name).join(' or ')}` : '';
  throw usageError('FLAVOR_NOT_PUBLISHED', `flavor ${flavor.name} (${variant}) does not exist at ${version}${before}`,
    predecessors.length > 0 ? `use ${predecessors.map((f) => f.name).join(' or ')} for ${version}` : `${flavor.name} ${variant} is published for ${where}`);
}

export function pinFor(flavor: Flavor, version: string): Pin | undefined {
  return flavor.pins.find((p) => inRange(version, p));
}

/** The flavor releases the catalog knows for a flavor at a version (listings and hints). */
export function knownFlavorReleases(flavor: Flavor, version: string): string[] {
  const pin = pinFor(flavor, version);
  if (pin === undefined) return [];
  return [...(pin.flavorReleases ?? (pin.flavorRelease === undefined ? [] : [pin.flavorRelease]))];
}

/** The Kubernetes distributions the flavor's images of `variant` carry at `version`. */
export function distributionsAt(catalog: Catalog, flavor: Flavor, variant: string, version: string): string[] {
  const v = catalog.variants.find((x) => x.name === variant);
  if (v?.kubernetes === undefined) return [];
  const ranges = flavor.exists.filter((x) => (x.variants === undefined || x.variants.includes(variant)) && inRange(version, x));
  return [...new Set(ranges.flatMap((r) => r.kubernetes ?? [v.kubernetes as string]))];
}

/** The flavor release to write: the requested one (when the pin allows it), else the pin's. */
export function chooseFlavorRelease(flavor: Flavor, pin: Pin | undefined, requested: string | undefined, version: string): string | undefined {
  if (requested === undefined) return pin?.flavorRelease;
  if (!isFlavorRelease(requested)) {
    throw usageError('BAD_FLAVOR_RELEASE', `"${requested}" is not a flavor release`, 'flavor releases look like 24.04, leap-15.6, 3.21 or (Hadron) v0.2.0');
  }
  // A flavor pinned to one upstream release names that release; another one is another flavor.
  if (pin !== undefined && pin.release !== null && pin.flavorRelease !== undefined && pin.flavorRelease !== requested) {
    throw usageError('CONFLICTING_OPTIONS', `${flavor.name} is pinned to ${pin.flavorRelease} at ${version}, not ${requested}`,
      `drop --flavor-release, or name a flavor of the ${flavor.family} family that tracks ${requested} (e.g. ${flavor.family} --flavor-release ${requested})`);
  }
  return requested;
}

function templateFor(era: Era, kind: ImageKind, variant: string): RefTemplate {
  const t = (kind === 'image' ? era.image : era.artifact)[variant];
  if (t === undefined) throw new KairosImgError('CATALOG_INCOMPLETE', `the catalog has no ${kind} template for ${variant} in era ${era.name}`);
  return t;
}

interface Chosen {
  flavor: Flavor;
  variant: VariantInfo;
  arch: string;
  model: string;
}

function choose(catalog: Catalog, req: Omit<ImageRequest, 'version'>): Chosen {
  const flavor = findFlavor(catalog, req.flavor);
  const variant = findVariant(catalog, req.variant);
  const model = chooseModel(flavor, req.model);
  const arch = chooseArch(flavor, req.arch, req.hostArch, catalog.modelArches[model]);
  return { flavor, variant, arch, model };
}

function baseValues(c: Chosen, flavorRelease: string | undefined): TemplateValues {
  return {
    flavor: c.flavor.name,
    family: c.flavor.family,
    variant: c.variant.name,
    arch: c.arch,
    model: c.model,
    ...(flavorRelease === undefined ? {} : { flavorRelease }),
  };
}

/** The distribution and version a request names (`--k3s`, `--k0s`, `kubernetes`), normalized. */
export function requestedKubernetes(req: Pick<ImageRequest, 'k3s' | 'k0s' | 'kubernetes'>): { distro?: K8sDistro | undefined; version?: string | undefined } {
  if (req.k3s !== undefined && req.k0s !== undefined) {
    throw usageError('CONFLICTING_OPTIONS', '--k3s and --k0s name two Kubernetes distributions', 'give one of them');
  }
  if (req.kubernetes !== undefined && !isK8sDistro(req.kubernetes)) {
    throw usageError('BAD_OPTION', `unknown Kubernetes distribution "${req.kubernetes}"`, 'use k3s or k0s');
  }
  const named = req.kubernetes as K8sDistro | undefined;
  if (req.k0s !== undefined) {
    if (named === 'k3s') throw usageError('CONFLICTING_OPTIONS', '--k0s with a k3s distribution', 'drop one of them');
    const v = normalizeK8s(req.k0s, 'k0s');
    if (v === undefined) throw usageError('BAD_K3S_VERSION', `"${req.k0s}" is not a k0s version`, 'k0s versions look like v1.32.1+k0s.0');
    return { distro: 'k0s', version: v };
  }
  if (req.k3s !== undefined) {
    if (named === 'k0s') throw usageError('CONFLICTING_OPTIONS', '--k3s with a k0s distribution', 'drop one of them');
    return { distro: 'k3s', version: normalizeK3sOption(req.k3s) };
  }
  return { distro: named };
}

/** `-uki` when asked for (and published at that release). */
function ukiValue(catalog: Catalog, uki: boolean | undefined, version: string): string {
  if (uki !== true) return '';
  if (catalog.uki === undefined || !inRange(version, catalog.uki)) {
    throw usageError('IMAGE_NOT_PUBLISHED', `Kairos ${version} publishes no UKI (trusted-boot) images`, catalog.uki === undefined ? undefined : `UKI images are published for ${describeRange(catalog.uki)}`);
  }
  return '-uki';
}

function expandOrExplain(template: string, values: TemplateValues, ctx: { flavor: string; variant: string; version: string; known?: string[] }): string {
  const r = expandTemplate(template, values);
  if ('text' in r) return r.text;
  const k8sMissing = r.missing.some((m) => m === 'k3s' || m === 'k8s' || m === 'k8sDigits' || m === 'distro');
  const what = r.missing.map((m) => (m === 'k3s' || m === 'k8s' || m === 'k8sDigits' ? 'the k3s version' : m === 'flavorRelease' ? 'the flavor release (--flavor-release)' : m));
  const known = ctx.known ?? [];
  const hint = k8sMissing
    ? 'pass --k3s (e.g. --k3s v1.26.1+k3s1), or leave --version out to let kairos-img ask the registry for the newest'
    : r.missing.includes('flavorRelease')
      ? `pass --flavor-release${known.length > 0 ? ` (the catalog knows ${known.join(', ')} at ${ctx.version})` : ''}, or leave --version out to let kairos-img ask the registry for the newest`
      : undefined;
  throw usageError('MISSING_INPUT', `cannot name the ${ctx.flavor} ${ctx.variant} image at ${ctx.version}: ${[...new Set(what)].join(', ')} is needed`, hint);
}

export function resolveImage(catalog: Catalog, req: ImageRequest): ResolvedKairosImage {
  const c = choose(catalog, req);
  const version = normalizeVersion(req.version);
  const era = eraFor(catalog, version);
  checkExists(c.flavor, c.variant.name, version, catalog);
  const pin = pinFor(c.flavor, version);
  const flavorRelease = chooseFlavorRelease(c.flavor, pin, req.flavorRelease, version);
  const needsK8s = c.variant.kubernetes !== undefined;
  const asked = requestedKubernetes(req);
  if (asked.version !== undefined && !needsK8s) {
    throw usageError('UNEXPECTED_K3S', `--${asked.distro ?? 'k3s'} applies to images with Kubernetes; ${c.variant.name} has none`, 'drop it, or ask for the standard variant');
  }
  let distro: K8sDistro | undefined;
  if (needsK8s) {
    const published = distributionsAt(catalog, c.flavor, c.variant.name, version);
    distro = asked.distro ?? (c.variant.kubernetes as K8sDistro);
    if (!published.includes(distro)) {
      throw usageError('IMAGE_NOT_PUBLISHED', `${c.flavor.name} ${c.variant.name} images carry no ${distro} at ${version}`, `they carry ${published.join(', ') || 'no Kubernetes'} at ${version}`);
    }
  }
  const k8s = asked.version;
  const k3s = distro === 'k3s' ? k8s : undefined;
  const values: TemplateValues = {
    ...baseValues(c, flavorRelease),
    version,
    uki: ukiValue(catalog, req.uki, version),
    ...(distro === undefined ? {} : { distro }),
    ...(k3s === undefined ? {} : { k3s: k3sTagForm(k3s) }),
    ...(k8s === undefined ? {} : { k8s: k8sTagForm(k8s), k8sDigits: k8sTagForm(k8s).slice(1) }),
  };
  const ctx = { flavor: c.flavor.name, variant: c.variant.name, version, known: knownFlavorReleases(c.flavor, version) };
  const imageTpl = templateFor(era, 'image', c.variant.name);
  if (req.uki === true && !imageTpl.tag.includes('{uki}')) {
    throw usageError('IMAGE_NOT_PUBLISHED', `the ${era.name} naming has no UKI images`, catalog.uki === undefined ? undefined : `UKI images are published for ${describeRange(catalog.uki)}`);
  }
  const imageRepo = expandOrExplain(imageTpl.repository, values, ctx);
  const imageTag = expandOrExplain(imageTpl.tag, values, ctx);
  const image = rewriteRegistry(parseReference(`${catalog.registry}/${catalog.namespace}/${imageRepo}:${imageTag}`), catalog.registry, req.registry);
  let reference = image;
  const kind = req.kind ?? 'image';
  if (kind === 'artifact') {
    const tpl = templateFor(era, 'artifact', c.variant.name);
    const withTag = { ...values, tag: imageTag };
    const repo = expandOrExplain(tpl.repository, withTag, ctx);
    const tag = expandOrExplain(tpl.tag, withTag, ctx);
    reference = rewriteRegistry(parseReference(`${catalog.registry}/${catalog.namespace}/${repo}:${tag}`), catalog.registry, req.registry);
  }
  const usesFlavorRelease = imageTpl.tag.includes('{flavorRelease}');
  return {
    reference, image, kind, era: era.name, flavor: c.flavor.name, variant: c.variant.name, version, arch: c.arch, model: c.model, k3s, pin,
    ...(usesFlavorRelease && flavorRelease !== undefined ? { flavorRelease } : {}),
    ...(distro === undefined ? {} : { kubernetes: distro }),
    ...(k8s === undefined ? {} : { k8s }),
    ...(req.uki === true ? { uki: true } : {}),
  };
}

/** A repository to list and how to recognise this flavor's tags in it, for one era. */
export interface TagSearch {
  era: Era;
  repository: Reference;
  /** This flavor's OS-image tags of the era's naming that are releases of it (range, pin and existence checked), parsed. */
  match: (tag: string) => ReleaseTag | undefined;
  /** Accepts tags shaped like this flavor's, whatever the version (for listings). */
  matchShape: (tag: string) => boolean;
}

/** What narrows a search; undefined fields are free (listings show every UKI and distribution). */
export interface SearchRequest extends Omit<ImageRequest, 'version'> {
  /** Fixed UKI-ness of the tags searched; undefined: both. */
  uki?: boolean | undefined;
}

/**
 * Where to look for releases of a flavor when no version is given: one search per era and flavor
 * release, newest era first. The caller lists each repository, keeps the tags the matcher accepts
 * that fall in the era's range, and takes the newest (see `newestRelease` in discover.ts). A flavor
 * release the pin does not fix (and the request does not name) is free: every one the registry
 * shows in the family repository is the flavor's.
 */
export function tagSearches(catalog: Catalog, req: SearchRequest): TagSearch[] {
  const c = choose(catalog, req);
  const asked = requestedKubernetes(req);
  const out: TagSearch[] = [];
  for (const era of [...catalog.eras].reverse()) {
    const tpl = templateFor(era, 'image', c.variant.name);
    const usesFlavorRelease = tpl.tag.includes('{flavorRelease}');
    // Pins that overlap the era, grouped by the flavor release their tags carry (free: undefined).
    const groups = new Map<string, { flavorRelease: string | undefined; pins: Array<Pin | VersionRange> }>();
    const pins: Array<Pin | undefined> = c.flavor.pins.length > 0 ? [...c.flavor.pins] : [undefined];
    for (const pin of pins) {
      const range: VersionRange = pin ?? {};
      if (!overlaps(range, era)) continue;
      const fr = !usesFlavorRelease ? undefined : req.flavorRelease ?? pin?.flavorRelease;
      const key = fr ?? '';
      const g = groups.get(key) ?? { flavorRelease: fr, pins: [] };
      g.pins.push(range);
      groups.set(key, g);
    }
    for (const { flavorRelease, pins: ranges } of groups.values()) {
      const values: TemplateValues = {
        ...baseValues(c, flavorRelease),
        ...(req.uki === undefined ? {} : { uki: req.uki ? '-uki' : '' }),
        ...(asked.distro === undefined ? {} : { distro: asked.distro }),
        ...(asked.version === undefined ? {} : { k8s: k8sTagForm(asked.version), k8sDigits: k8sTagForm(asked.version).slice(1) }),
        ...(asked.version !== undefined && asked.distro === 'k3s' ? { k3s: k3sTagForm(asked.version) } : {}),
      };
      const repo = expandTemplate(tpl.repository, values);
      if (!('text' in repo)) continue;
      const shape = tagShape(tpl.tag, values);
      const repository = rewriteRegistry(parseReference(`${catalog.registry}/${catalog.namespace}/${repo.text}`), catalog.registry, req.registry);
      const flavor = c.flavor;
      const variant = c.variant.name;
      out.push({
        era,
        repository,
        matchShape: shape,
        match: (tag) => {
          if (!shape(tag)) return undefined;
          const t = parseTag(tag);
          if (t.kind === 'noise' || t.artifact) return undefined;
          if (!inRange(t.version, era)) return undefined;
          if (!ranges.some((r) => inRange(t.version, r))) return undefined;
          if (!flavor.exists.some((x) => (x.variants === undefined || x.variants.includes(variant)) && inRange(t.version, x))) return undefined;
          return t;
        },
      });
    }
  }
  return out;
}

function overlaps(a: VersionRange, b: VersionRange): boolean {
  const startsBeforeEnd = (r: VersionRange, end: string | undefined): boolean => end === undefined || r.from === undefined || normalizeKairos(r.from) === undefined || inRange(r.from, { until: end });
  return startsBeforeEnd(a, b.until) && startsBeforeEnd(b, a.until);
}
