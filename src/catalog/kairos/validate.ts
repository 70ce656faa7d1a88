/**
 * Validates a parsed catalog document into typed data, collecting every problem with the key
 * path where it is (`flavors.ubuntu.pins[1].from: "2.3" is not a Kairos version`). Pure.
 * Hand-written: the schema is small and the messages must name catalog keys, which generic
 * schema libraries word in their own terms.
 */
import { Collector, describe, isObj, type Obj } from '../collector.js';
import { compareKairos, isKairosVersion } from '../../version/kairos.js';
import { placeholdersOf, TEMPLATE_PLACEHOLDERS } from './template.js';
import { isK8sDistro } from '../../version/k8s.js';
import { isFlavorRelease } from '../../version/flavor-release.js';
import type { Catalog, Changelog, Era, Existence, Flavor, Pin, RefTemplate, Signing, VariantInfo, VersionRange } from './types.js';

export interface ValidationResult {
  catalog?: Catalog;
  errors: string[];
}

/** The shared collector plus Kairos version ranges. */
class CatalogCollector extends Collector {
  range(o: Obj, path: string): VersionRange {
    const from = this.version(o, 'from', path);
    const until = this.version(o, 'until', path);
    if (from !== undefined && until !== undefined && compareKairos(from, until) >= 0) {
      this.add(path, `"from" ${from} must be before "until" ${until}`);
    }
    return { from, until };
  }
  version(o: Obj, key: string, path: string): string | undefined {
    const s = this.str(o, key, path, { optional: true });
    if (s === undefined) return undefined;
    if (!isKairosVersion(s)) {
      this.add(`${path}.${key}`, `"${s}" is not a Kairos version (v<major>.<minor>.<patch>[-<pre>])`);
      return undefined;
    }
    return s;
  }
}

const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function template(c: CatalogCollector, o: Obj, path: string, allowed: readonly string[]): RefTemplate | undefined {
  const repository = c.str(o, 'repository', path);
  const tag = c.str(o, 'tag', path);
  c.unknownKeys(o, ['repository', 'tag'], path);
  for (const [key, text] of [['repository', repository], ['tag', tag]] as const) {
    if (text === undefined) continue;
    for (const p of placeholdersOf(text)) {
      if (!allowed.includes(p)) c.add(`${path}.${key}`, `unknown placeholder {${p}}; allowed: ${allowed.map((a) => `{${a}}`).join(' ')}`);
    }
  }
  return repository !== undefined && tag !== undefined ? { repository, tag } : undefined;
}

function templatesPerVariant(c: CatalogCollector, o: Obj, key: string, path: string, variants: readonly string[], allowed: readonly string[]): Record<string, RefTemplate> {
  const out: Record<string, RefTemplate> = {};
  const m = c.obj(o, key, path);
  if (m === undefined) return out;
  for (const v of variants) {
    const t = m[v];
    if (!isObj(t)) c.add(`${path}.${key}.${v}`, 'is required (a {repository, tag} template)');
    else {
      const tpl = template(c, t, `${path}.${key}.${v}`, allowed);
      if (tpl !== undefined) out[v] = tpl;
    }
  }
  for (const k of Object.keys(m)) if (!variants.includes(k)) c.add(`${path}.${key}.${k}`, `unknown variant; expected one of ${variants.join(', ')}`);
  return out;
}

export function validateCatalog(doc: unknown, source: string): ValidationResult {
  const c = new CatalogCollector();
  if (!isObj(doc)) return { errors: [`(top level): must be a mapping, got ${describe(doc)}`] };
  const root = '';
  const at = (k: string): string => (root === '' ? k : `${root}.${k}`);
  c.unknownKeys(doc, ['os', 'name', 'registry', 'namespace', 'variants', 'arches', 'models', 'modelArches', 'uki', 'changelogs', 'eras', 'flavors', 'signing'], '(top level)');

  const os = c.str(doc, 'os', '(top level)', { pattern: NAME });
  const name = c.str(doc, 'name', '(top level)');
  const registry = c.str(doc, 'registry', '(top level)', { pattern: /^[a-z0-9.-]+(?::\d+)?$/ });
  const namespace = c.str(doc, 'namespace', '(top level)', { pattern: /^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/ });

  const variants: VariantInfo[] = [];
  const vm = c.obj(doc, 'variants', '(top level)');
  if (vm !== undefined) {
    for (const [vn, vv] of Object.entries(vm)) {
      const p = at(`variants.${vn}`);
      if (!NAME.test(vn)) c.add(p, 'variant names are lowercase words');
      if (!isObj(vv)) { c.add(p, 'must be a mapping'); continue; }
      c.unknownKeys(vv, ['description', 'kubernetes'], p);
      const description = c.str(vv, 'description', p) ?? '';
      const kubernetes = c.str(vv, 'kubernetes', p, { optional: true });
      variants.push({ name: vn, description, kubernetes });
    }
    if (variants.length === 0) c.add('variants', 'must name at least one variant');
  }
  const variantNames = variants.map((v) => v.name);
  const arches = c.strList(doc, 'arches', '(top level)') ?? [];
  if (doc['arches'] === undefined) c.add('arches', 'is required');
  const models = c.strList(doc, 'models', '(top level)') ?? [];
  if (doc['models'] === undefined) c.add('models', 'is required');

  const modelArches: Record<string, string[]> = {};
  if (doc['modelArches'] !== undefined) {
    const ma = c.obj(doc, 'modelArches', '(top level)');
    for (const [m, list] of Object.entries(ma ?? {})) {
      if (!models.includes(m)) c.add(`modelArches.${m}`, `names no model of this catalog; models: ${models.join(', ')}`);
      const a = c.strList({ [m]: list }, m, 'modelArches', arches);
      if (a !== undefined) modelArches[m] = a;
    }
  }
  let uki: VersionRange | undefined;
  if (doc['uki'] !== undefined) {
    const u = c.obj(doc, 'uki', '(top level)');
    if (u !== undefined) {
      c.unknownKeys(u, ['from', 'until'], 'uki');
      uki = c.range(u, 'uki');
    }
  }
  let signing: Signing | undefined;
  const sg = doc['signing'] === undefined ? undefined : c.obj(doc, 'signing', '(top level)');
  if (sg !== undefined) {
    c.unknownKeys(sg, ['issuer', 'identityRegexp'], 'signing');
    const issuer = c.str(sg, 'issuer', 'signing', { pattern: /^https:\/\/\S+$/ });
    const identityRegexp = c.str(sg, 'identityRegexp', 'signing');
    if (identityRegexp !== undefined) {
      try {
        new RegExp(identityRegexp);
      } catch (e) {
        c.add('signing.identityRegexp', `is not a regular expression: ${(e as Error).message}`);
      }
    }
    if (issuer !== undefined && identityRegexp !== undefined) signing = { issuer, identityRegexp };
  }

  const changelogs: Changelog[] = [];
  if (doc['changelogs'] !== undefined) {
    c.list(doc, 'changelogs', '(top level)').forEach((x, i) => {
      const p = `changelogs[${i}]`;
      if (!isObj(x)) { c.add(p, 'must be a mapping'); return; }
      c.unknownKeys(x, ['from', 'until', 'variants', 'urls'], p);
      const range = c.range(x, p);
      const vs = c.strList(x, 'variants', p, variantNames);
      const urls = c.strList(x, 'urls', p) ?? [];
      if (x['urls'] === undefined) c.add(`${p}.urls`, 'is required');
      urls.forEach((u, j) => {
        if (!/^https:\/\//.test(u)) c.add(`${p}.urls[${j}]`, `"${u}" is not an https URL`);
        for (const ph of placeholdersOf(u)) if (ph !== 'version') c.add(`${p}.urls[${j}]`, `unknown placeholder {${ph}}; allowed: {version}`);
      });
      changelogs.push({ ...range, variants: vs, urls });
    });
  }

  const eras: Era[] = [];
  c.list(doc, 'eras', '(top level)').forEach((e, i) => {
    const p = `eras[${i}]`;
    if (!isObj(e)) { c.add(p, 'must be a mapping'); return; }
    c.unknownKeys(e, ['name', 'from', 'until', 'image', 'artifact'], p);
    const eraName = c.str(e, 'name', p) ?? `#${i}`;
    const range = c.range(e, p);
    const imagePlaceholders = TEMPLATE_PLACEHOLDERS.filter((x) => x !== 'tag');
    const image = templatesPerVariant(c, e, 'image', p, variantNames, imagePlaceholders);
    const artifact = templatesPerVariant(c, e, 'artifact', p, variantNames, TEMPLATE_PLACEHOLDERS);
    eras.push({ name: eraName, ...range, image, artifact });
  });
  // Eras must tile the version line: sorted, contiguous, non-overlapping.
  for (let i = 1; i < eras.length; i++) {
    const prev = eras[i - 1];
    const cur = eras[i];
    if (prev === undefined || cur === undefined) continue;
    if (prev.until === undefined || cur.from === undefined || prev.until !== cur.from) {
      c.add(`eras[${i}]`, `must start where eras[${i - 1}] ends (${prev.until ?? 'open end'}), got from ${cur.from ?? '(none)'}`);
    }
  }

  const flavors: Flavor[] = [];
  const fm = c.obj(doc, 'flavors', '(top level)');
  if (fm !== undefined) {
    for (const [fn, fv] of Object.entries(fm)) {
      const p = `flavors.${fn}`;
      if (!NAME.test(fn)) c.add(p, 'flavor names are lowercase words joined by "-"');
      if (!isObj(fv)) { c.add(p, 'must be a mapping'); continue; }
      c.unknownKeys(fv, ['description', 'family', 'arches', 'models', 'exists', 'pins'], p);
      const description = c.str(fv, 'description', p) ?? '';
      const family = c.str(fv, 'family', p, { pattern: NAME }) ?? fn;
      const fArches = c.strList(fv, 'arches', p, arches) ?? [];
      if (fv['arches'] === undefined) c.add(`${p}.arches`, 'is required');
      const fModels = c.strList(fv, 'models', p, models) ?? [];
      if (fv['models'] === undefined) c.add(`${p}.models`, 'is required');
      const exists: Existence[] = [];
      c.list(fv, 'exists', p).forEach((x, i) => {
        const xp = `${p}.exists[${i}]`;
        if (!isObj(x)) { c.add(xp, 'must be a mapping'); return; }
        c.unknownKeys(x, ['from', 'until', 'variants', 'replacedBy', 'kubernetes'], xp);
        const range = c.range(x, xp);
        const vs = c.strList(x, 'variants', xp, variantNames);
        const replacedBy = c.strList(x, 'replacedBy', xp);
        const kubernetes = c.strList(x, 'kubernetes', xp);
        kubernetes?.forEach((d, j) => { if (!isK8sDistro(d)) c.add(`${xp}.kubernetes[${j}]`, `unknown Kubernetes distribution "${d}"; expected k3s or k0s`); });
        exists.push({ ...range, variants: vs, replacedBy, kubernetes });
      });
      const pins: Pin[] = [];
      c.list(fv, 'pins', p).forEach((x, i) => {
        const xp = `${p}.pins[${i}]`;
        if (!isObj(x)) { c.add(xp, 'must be a mapping'); return; }
        c.unknownKeys(x, ['from', 'until', 'os', 'release', 'flavorRelease', 'flavorReleases'], xp);
        const range = c.range(x, xp);
        const pinOs = c.str(x, 'os', xp) ?? '';
        if (!('release' in x)) c.add(`${xp}.release`, 'is required (null when the flavor tracks upstream)');
        const release = x['release'] === null ? null : (c.str(x, 'release', xp, { optional: true }) ?? null);
        const flavorRelease = c.str(x, 'flavorRelease', xp, { optional: true, pattern: /^[a-z0-9][a-z0-9.-]*$/ });
        const flavorReleases = c.strList(x, 'flavorReleases', xp);
        flavorReleases?.forEach((r, j) => { if (!isFlavorRelease(r)) c.add(`${xp}.flavorReleases[${j}]`, `"${r}" is not a flavor release`); });
        pins.push({ ...range, os: pinOs, release, flavorRelease, flavorReleases });
      });
      flavors.push({ name: fn, description, family, arches: fArches, models: fModels, exists, pins });
    }
    const names = flavors.map((f) => f.name);
    flavors.forEach((f) => f.exists.forEach((x, i) => x.replacedBy?.forEach((r, j) => {
      if (!names.includes(r)) c.add(`flavors.${f.name}.exists[${i}].replacedBy[${j}]`, `names no flavor of this catalog: "${r}"`);
    })));
  }

  if (c.errors.length > 0 || os === undefined || name === undefined || registry === undefined || namespace === undefined) {
    return { errors: c.errors.length > 0 ? c.errors : ['(top level): incomplete catalog'] };
  }
  return { catalog: { source, os, name, registry, namespace, variants, arches, models, eras, flavors, modelArches, uki, changelogs, signing }, errors: [] };
}
