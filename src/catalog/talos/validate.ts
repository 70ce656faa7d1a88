/**
 * Validates a parsed flavors/talos.yaml into a TalosMatrix, collecting every problem with the key
 * path where it is (`versions[1].kubernetes.min: …`). Pure. Hand-written for the same reason as the
 * Kairos catalog's validator (messages name the file's keys), with its shared collector.
 */
import { semverPackage as semver } from '../../lazy-packages.js';
import { Collector, describe, isObj, type Obj } from '../collector.js';
import { compareMinors, isMinor } from '../../version/minor.js';
import { compareDates, isIsoDate } from './dates.js';
import { platformIndex, platformKey } from './platforms.js';
import { NAMED_GROUPS, TIERS, type TalosImage, type TalosMatrix, type TalosPlatform, type TalosRelease, type Tier } from './types.js';

export interface TalosValidationResult {
  matrix?: TalosMatrix;
  errors: string[];
}

const TOP = '(top level)';

/** Collector with the Talos matrix's value kinds. */
class MatrixCollector extends Collector {
  /** A minor written as a quoted string: YAML turns an unquoted 1.10 into the number 1.1. */
  minor(o: Obj, key: string, path: string, opts: { optional?: boolean } = {}): string | undefined {
    const v = o[key];
    if (typeof v === 'number') {
      this.add(`${path}.${key}`, `write the version quoted ("${String(v)}"): YAML reads an unquoted 1.10 as the number 1.1`);
      return undefined;
    }
    const s = this.str(o, key, path, opts);
    if (s === undefined) return undefined;
    if (!isMinor(s)) {
      this.add(`${path}.${key}`, `"${s}" is not a minor version (<major>.<minor>, e.g. "1.3")`);
      return undefined;
    }
    return s;
  }
  date(o: Obj, key: string, path: string): string | undefined {
    const s = this.str(o, key, path);
    if (s === undefined) return undefined;
    if (!isIsoDate(s)) {
      this.add(`${path}.${key}`, `"${s}" is not a date (YYYY-MM-DD)`);
      return undefined;
    }
    return s;
  }
  release(o: Obj, key: string, path: string, opts: { optional?: boolean } = {}): string | undefined {
    const s = this.str(o, key, path, opts);
    if (s === undefined) return undefined;
    if (semver().valid(s) === null) {
      this.add(`${path}.${key}`, `"${s}" is not a release version (<major>.<minor>.<patch>)`);
      return undefined;
    }
    return s;
  }
  names(o: Obj, key: string, path: string, known: Map<string, string>): string[] {
    const list = this.strList(o, key, path);
    if (o[key] === undefined) this.add(`${path}.${key}`, 'is required');
    if (list === undefined) return [];
    list.forEach((n, i) => {
      if (!known.has(platformKey(n))) this.add(`${path}.${key}[${i}]`, `"${n}" is not a platform named under platforms (add it there, or an alias)`);
    });
    return list;
  }
}

function platforms(c: MatrixCollector, doc: Obj): TalosPlatform[] {
  const out: TalosPlatform[] = [];
  const m = c.obj(doc, 'platforms', TOP);
  if (m === undefined) return out;
  const seen = new Map<string, string>();
  for (const [name, aliases] of Object.entries(m)) {
    const p = `platforms.${name}`;
    let list: string[] = [];
    if (aliases === null || aliases === undefined) list = [];
    else if (!Array.isArray(aliases)) c.add(p, `must be a list of aliases, got ${describe(aliases)}`);
    else {
      aliases.forEach((a, i) => {
        if (typeof a !== 'string' || a.trim() === '') c.add(`${p}[${i}]`, `must be a name, got ${describe(a)}`);
        else list.push(a);
      });
    }
    for (const n of [name, ...list]) {
      const key = platformKey(n);
      const owner = seen.get(key);
      if (owner !== undefined) c.add(p, `"${n}" already names ${owner} (names and aliases are compared case-insensitively)`);
      else seen.set(key, name);
    }
    out.push({ name, aliases: list });
  }
  if (out.length === 0) c.add('platforms', 'must name at least one platform');
  return out;
}

function images(c: MatrixCollector, doc: Obj): TalosMatrix['images'] | undefined {
  const m = c.obj(doc, 'images', TOP);
  if (m === undefined) return undefined;
  c.unknownKeys(m, ['registry', 'namespace', 'list'], 'images');
  const registry = c.str(m, 'registry', 'images', { pattern: /^[a-z0-9.-]+(?::\d+)?$/ });
  const namespace = c.str(m, 'namespace', 'images', { pattern: /^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/ });
  const list: TalosImage[] = [];
  const lm = c.obj(m, 'list', 'images');
  for (const [name, v] of Object.entries(lm ?? {})) {
    const p = `images.list.${name}`;
    if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(name)) c.add(p, 'image names are lowercase words joined by "-"');
    if (!isObj(v)) { c.add(p, `must be a mapping, got ${describe(v)}`); continue; }
    c.unknownKeys(v, ['description', 'from', 'until'], p);
    const description = c.str(v, 'description', p) ?? '';
    const from = c.minor(v, 'from', p, { optional: true });
    const until = c.minor(v, 'until', p, { optional: true });
    if (from !== undefined && until !== undefined && compareMinors(from, until) >= 0) c.add(p, `"from" ${from} must be before "until" ${until}`);
    list.push({ name, description, from, until });
  }
  if (registry === undefined || namespace === undefined) return undefined;
  return { registry, namespace, list };
}

const VERSION_KEYS = ['version', 'released', 'communitySupportEnds', 'enterpriseSupport', 'kubernetes', 'arches', 'platforms', 'capi', 'tiers', 'upgradeFrom'] as const;

function release(c: MatrixCollector, x: unknown, p: string, known: Map<string, string>): TalosRelease | undefined {
  if (!isObj(x)) { c.add(p, `must be a mapping, got ${describe(x)}`); return undefined; }
  const before = c.errors.length;
  const version = c.minor(x, 'version', p);
  const at = version === undefined ? p : `${p} (${version})`;
  c.unknownKeys(x, VERSION_KEYS, at);

  const rel = c.obj(x, 'released', at);
  let released: TalosRelease['released'] | undefined;
  if (rel !== undefined) {
    c.unknownKeys(rel, ['date', 'release'], `${at}.released`);
    const date = c.date(rel, 'date', `${at}.released`);
    const r = c.release(rel, 'release', `${at}.released`, { optional: true });
    if (date !== undefined) released = { date, release: r };
  }

  const end = c.obj(x, 'communitySupportEnds', at);
  let communitySupportEnds: TalosRelease['communitySupportEnds'] | undefined;
  if (end !== undefined) {
    c.unknownKeys(end, ['release', 'date', 'tbd'], `${at}.communitySupportEnds`);
    const r = c.release(end, 'release', `${at}.communitySupportEnds`);
    const date = c.date(end, 'date', `${at}.communitySupportEnds`);
    const tbd = end['tbd'];
    if (tbd !== undefined && typeof tbd !== 'boolean') c.add(`${at}.communitySupportEnds.tbd`, `must be true or false, got ${describe(tbd)}`);
    if (date !== undefined && released !== undefined && compareDates(date, released.date) <= 0) {
      c.add(`${at}.communitySupportEnds.date`, `${date} is not after the release date ${released.date}`);
    }
    if (r !== undefined && date !== undefined) communitySupportEnds = { release: r, date, tbd: tbd === true };
  }

  const ent = c.obj(x, 'enterpriseSupport', at);
  let enterpriseSupport: TalosRelease['enterpriseSupport'] | undefined;
  if (ent !== undefined) {
    c.unknownKeys(ent, ['text', 'url'], `${at}.enterpriseSupport`);
    const text = c.str(ent, 'text', `${at}.enterpriseSupport`);
    const url = c.str(ent, 'url', `${at}.enterpriseSupport`, { optional: true, pattern: /^https:\/\/\S+$/ });
    if (text !== undefined) enterpriseSupport = { text, url };
  }

  const k = c.obj(x, 'kubernetes', at);
  let kubernetes: TalosRelease['kubernetes'] | undefined;
  if (k !== undefined) {
    c.unknownKeys(k, ['min', 'max'], `${at}.kubernetes`);
    const min = c.minor(k, 'min', `${at}.kubernetes`);
    const max = c.minor(k, 'max', `${at}.kubernetes`);
    if (min !== undefined && max !== undefined) {
      if (compareMinors(min, max) > 0) c.add(`${at}.kubernetes`, `min ${min} is newer than max ${max}`);
      else if (min.split('.')[0] !== max.split('.')[0]) c.add(`${at}.kubernetes`, `min ${min} and max ${max} must share the major version`);
      else kubernetes = { min, max };
    }
  }

  const arches = c.strList(x, 'arches', at, ['amd64', 'arm64', 'riscv64', 'arm']) ?? [];
  if (x['arches'] === undefined) c.add(`${at}.arches`, 'is required');

  const pm = c.obj(x, 'platforms', at);
  let plats: TalosRelease['platforms'] | undefined;
  if (pm !== undefined) {
    const pp = `${at}.platforms`;
    c.unknownKeys(pm, ['cloud', 'bareMetal', 'virtualized', 'sbcs', 'local'], pp);
    const [cloud, virtualized, sbcs, local] = NAMED_GROUPS.map((g) => c.names(pm, g, pp, known));
    const bm = c.obj(pm, 'bareMetal', pp);
    const bareMetal: Array<{ key: string; values: string[] }> = [];
    for (const key of Object.keys(bm ?? {})) {
      const values = c.strList(bm ?? {}, key, `${pp}.bareMetal`);
      if (values !== undefined) bareMetal.push({ key, values });
    }
    plats = { cloud: cloud ?? [], bareMetal, virtualized: virtualized ?? [], sbcs: sbcs ?? [], local: local ?? [] };
  }

  const cm = c.obj(x, 'capi', at);
  let capi: TalosRelease['capi'] | undefined;
  if (cm !== undefined) {
    c.unknownKeys(cm, ['bootstrap', 'controlPlane', 'sidero'], `${at}.capi`);
    const [bootstrap, controlPlane, sidero] = (['bootstrap', 'controlPlane', 'sidero'] as const).map((key) => c.release(cm, key, `${at}.capi`));
    if (bootstrap !== undefined && controlPlane !== undefined && sidero !== undefined) capi = { bootstrap, controlPlane, sidero };
  }

  const tm = c.obj(x, 'tiers', at);
  const tiers = { '1': [], '2': [], '3': [] } as Record<Tier, string[]>;
  if (tm !== undefined) {
    c.unknownKeys(tm, TIERS, `${at}.tiers`);
    for (const t of TIERS) tiers[t] = c.names(tm, t, `${at}.tiers`, known);
    const placed = new Map<string, Tier>();
    for (const t of TIERS) {
      tiers[t].forEach((n, i) => {
        const canonical = known.get(platformKey(n));
        if (canonical === undefined) return;
        const other = placed.get(canonical);
        if (other !== undefined) c.add(`${at}.tiers.${t}[${i}]`, `${n} is already in tier ${other}`);
        else placed.set(canonical, t);
      });
    }
  }

  const upgradeFrom = c.minor(x, 'upgradeFrom', at);
  if (upgradeFrom !== undefined && version !== undefined && compareMinors(upgradeFrom, version) >= 0) {
    c.add(`${at}.upgradeFrom`, `${upgradeFrom} must be older than the version itself`);
  }

  if (c.errors.length > before || version === undefined || released === undefined || communitySupportEnds === undefined || enterpriseSupport === undefined
    || kubernetes === undefined || plats === undefined || capi === undefined || upgradeFrom === undefined) return undefined;
  return { version, released, communitySupportEnds, enterpriseSupport, kubernetes, arches, platforms: plats, capi, tiers, upgradeFrom };
}

export function validateTalosMatrix(doc: unknown, source: string): TalosValidationResult {
  const c = new MatrixCollector();
  if (!isObj(doc)) return { errors: [`${TOP}: must be a mapping, got ${describe(doc)}`] };
  // `x-` keys hold YAML anchors for shared cells; they are not read.
  c.unknownKeys(Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('x-'))), ['os', 'name', 'images', 'platforms', 'versions'], TOP);
  const os = c.str(doc, 'os', TOP, { pattern: /^[a-z0-9]+$/ });
  const name = c.str(doc, 'name', TOP);
  const imgs = images(c, doc);
  const plats = platforms(c, doc);
  const known = platformIndex(plats);

  const versions: TalosRelease[] = [];
  c.list(doc, 'versions', TOP).forEach((x, i) => {
    const r = release(c, x, `versions[${i}]`, known);
    if (r !== undefined) versions.push(r);
  });
  // Oldest first, each minor once: renderers and the upgrade rule walk this order.
  for (let i = 1; i < versions.length; i++) {
    const prev = versions[i - 1];
    const cur = versions[i];
    if (prev !== undefined && cur !== undefined && compareMinors(prev.version, cur.version) >= 0) {
      c.add(`versions[${i}] (${cur.version})`, `must come after ${prev.version}: versions are listed oldest first, each once`);
    }
  }
  if (versions.length === 0 && c.errors.length === 0) c.add('versions', 'must list at least one version');

  if (c.errors.length > 0 || os === undefined || name === undefined || imgs === undefined) {
    return { errors: c.errors.length > 0 ? c.errors : [`${TOP}: incomplete matrix`] };
  }
  return { matrix: { source, os, name, images: imgs, platforms: plats, versions }, errors: [] };
}
