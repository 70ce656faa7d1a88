/**
 * flavor × variant × version × arch × model (× k3s) → image or artifact reference, by the
 * catalog's data alone. Pure: no registry, no file system.
 */
import { KairosImgError, usageError, type UsageCode } from '../../errors.js';
import { parseReference, rewriteRegistry, type Reference } from '../../reference/reference.js';
import { nearestName, normalizeArch } from '../names.js';
import { expandTemplate, tagShape, type TemplateValues } from './template.js';
import { parseTag, type ReleaseTag } from '../../policy/tag.js';
import { describeRange, inRange, normalizeKairos } from '../../version/kairos.js';
import { k3sTagForm, normalizeK3s } from '../../version/k3s.js';
import type { ImageKind, ResolvedImage } from '../os.js';
import type { Catalog, Era, Flavor, Pin, RefTemplate, VariantInfo } from './types.js';

export interface ImageRequest {
  flavor: string;
  variant: string;
  /** Kairos version (`v1.5.1`; `1.5.1` is accepted). */
  version: string;
  arch?: string | undefined;
  model?: string | undefined;
  /** k3s version for standard images (`v1.26.1+k3s1` or `v1.26.1-k3s1`). */
  k3s?: string | undefined;
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

/** The arch to use: the requested one (checked), else the host's when the flavor ships it, else the flavor's first. */
export function chooseArch(flavor: Flavor, requested: string | undefined, hostArch: string | undefined): string {
  if (requested !== undefined) {
    const arch = normalizeArch(requested);
    if (!flavor.arches.includes(arch)) {
      throw usageError('UNSUPPORTED_ARCH', `flavor ${flavor.name} is not published for ${requested}`, `its arches: ${flavor.arches.join(', ')} (pass --arch ${flavor.arches[0] ?? ''})`);
    }
    return arch;
  }
  const host = hostArch === undefined ? undefined : normalizeArch(hostArch);
  if (host !== undefined && flavor.arches.includes(host)) return host;
  return flavor.arches[0] ?? 'amd64';
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
  const arch = chooseArch(flavor, req.arch, req.hostArch);
  const model = chooseModel(flavor, req.model);
  return { flavor, variant, arch, model };
}

function baseValues(c: Chosen, pin: Pin | undefined): TemplateValues {
  return {
    flavor: c.flavor.name,
    family: c.flavor.family,
    variant: c.variant.name,
    arch: c.arch,
    model: c.model,
    ...(pin?.flavorRelease === undefined ? {} : { flavorRelease: pin.flavorRelease }),
  };
}

function expandOrExplain(template: string, values: TemplateValues, ctx: { flavor: string; variant: string; version: string }): string {
  const r = expandTemplate(template, values);
  if ('text' in r) return r.text;
  const what = r.missing.map((m) => (m === 'k3s' ? 'the k3s version' : m === 'flavorRelease' ? 'the upstream release' : m));
  const hint = r.missing.includes('k3s')
    ? 'pass --k3s (e.g. --k3s v1.26.1+k3s1), or leave --version out to let kairos-img ask the registry for the newest'
    : r.missing.includes('flavorRelease')
      ? `the catalog has no upstream release for ${ctx.flavor} at ${ctx.version}; pass a full image reference instead`
      : undefined;
  throw usageError('MISSING_INPUT', `cannot name the ${ctx.flavor} ${ctx.variant} image at ${ctx.version}: ${what.join(', ')} is needed`, hint);
}

export function resolveImage(catalog: Catalog, req: ImageRequest): ResolvedKairosImage {
  const c = choose(catalog, req);
  const version = normalizeVersion(req.version);
  const era = eraFor(catalog, version);
  checkExists(c.flavor, c.variant.name, version, catalog);
  const pin = pinFor(c.flavor, version);
  const needsK3s = c.variant.kubernetes !== undefined;
  const k3s = req.k3s === undefined ? undefined : normalizeK3sOption(req.k3s);
  if (k3s !== undefined && !needsK3s) {
    throw usageError('UNEXPECTED_K3S', `--k3s applies to images with Kubernetes; ${c.variant.name} has none`, 'drop --k3s, or ask for the standard variant');
  }
  const values: TemplateValues = { ...baseValues(c, pin), version, ...(k3s === undefined ? {} : { k3s: k3sTagForm(k3s) }) };
  const ctx = { flavor: c.flavor.name, variant: c.variant.name, version };
  const imageTpl = templateFor(era, 'image', c.variant.name);
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
  return { reference, image, kind, era: era.name, flavor: c.flavor.name, variant: c.variant.name, version, arch: c.arch, model: c.model, k3s, pin };
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

/**
 * Where to look for releases of a flavor when no version is given: one search per era, newest era
 * first. The caller lists each repository, keeps the tags the matcher accepts that fall in the
 * era's range, and takes the newest (see `newestRelease` in discover.ts).
 */
export function tagSearches(catalog: Catalog, req: Omit<ImageRequest, 'version'>): TagSearch[] {
  const c = choose(catalog, req);
  const out: TagSearch[] = [];
  for (const era of [...catalog.eras].reverse()) {
    // flavorRelease differs per release inside an era: search each pin of the flavor that overlaps it.
    const pins = c.flavor.pins.length > 0 ? c.flavor.pins : [undefined];
    const seen = new Set<string>();
    for (const pin of pins) {
      const values = baseValues(c, pin);
      const tpl = templateFor(era, 'image', c.variant.name);
      const repo = expandTemplate(tpl.repository, values);
      if (!('text' in repo)) continue;
      const tagFixed = { ...values } as TemplateValues;
      const tagTpl = tpl.tag;
      if (tagTpl.includes('{flavorRelease}') && pin?.flavorRelease === undefined) continue;
      const key = `${repo.text}|${tagTpl}|${pin?.flavorRelease ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const shape = tagShape(tagTpl, tagFixed);
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
          if (pin !== undefined && !inRange(t.version, pin)) return undefined;
          if (!flavor.exists.some((x) => (x.variants === undefined || x.variants.includes(variant)) && inRange(t.version, x))) return undefined;
          return t;
        },
      });
    }
  }
  return out;
}
