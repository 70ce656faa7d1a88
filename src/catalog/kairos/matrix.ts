/** The support matrix (flavor × variant → repository, arches, pins, flavor releases) at one release, as the `flavors` command shows it. Pure. */
import { parseReference, repositoryName, rewriteRegistry } from '../../reference/reference.js';
import { expandTemplate } from './template.js';
import { distributionsAt, eraFor, knownFlavorReleases, normalizeVersion } from './resolve.js';
import { compareKairos, describeRange, inRange } from '../../version/kairos.js';
import type { Catalog, Era, Pin } from './types.js';

export interface MatrixRow {
  flavor: string;
  variant: string;
  description: string;
  repository: string;
  arches: string[];
  models: string[];
  pins: Array<{ os: string; release: string | null; from?: string | undefined; until?: string | undefined }>;
  published: Array<{ from?: string | undefined; until?: string | undefined }>;
  replacedBy?: string[] | undefined;
  /** At the release shown: the flavor releases the catalog knows (v2.4.2+ naming). */
  flavorReleases?: string[] | undefined;
  /** At the release shown: the Kubernetes distributions of standard images. */
  kubernetes?: string[] | undefined;
}

export interface Matrix {
  os: string;
  registry: string;
  era: string;
  version?: string | undefined;
  rows: MatrixRow[];
}

/** The newest release the catalog speaks of: the highest bound of any of its ranges. */
export function newestKnownRelease(catalog: Catalog): string {
  const bounds = [
    ...catalog.eras.flatMap((e) => [e.from, e.until]),
    ...catalog.flavors.flatMap((f) => [...f.exists, ...f.pins].flatMap((r) => [r.from, r.until])),
  ].filter((v): v is string => v !== undefined);
  return bounds.reduce((a, b) => (compareKairos(b, a) > 0 ? b : a));
}

export function buildMatrix(catalog: Catalog, opts: { version?: string | undefined; registry?: string | undefined } = {}): Matrix {
  // Without a version: the newest release the catalog knows (issue 16).
  const version = normalizeVersion(opts.version ?? newestKnownRelease(catalog));
  const era: Era | undefined = eraFor(catalog, version);
  const rows: MatrixRow[] = [];
  for (const flavor of catalog.flavors) {
    for (const variant of catalog.variants) {
      const published = flavor.exists.filter((x) => x.variants === undefined || x.variants.includes(variant.name));
      if (published.length === 0) continue;
      if (!published.some((r) => inRange(version, r))) continue;
      const pins: Pin[] = flavor.pins.filter((p) => inRange(version, p));
      const pinForName = pins[pins.length - 1];
      const tpl = era?.image[variant.name];
      const flavorReleases = tpl?.tag.includes('{flavorRelease}') === true ? knownFlavorReleases(flavor, version) : [];
      const kubernetes = distributionsAt(catalog, flavor, variant.name, version);
      let repository = '';
      if (tpl !== undefined) {
        const r = expandTemplate(tpl.repository, { flavor: flavor.name, family: flavor.family, variant: variant.name, ...(pinForName?.flavorRelease === undefined ? {} : { flavorRelease: pinForName.flavorRelease }) });
        if ('text' in r) repository = repositoryName(rewriteRegistry(parseReference(`${catalog.registry}/${catalog.namespace}/${r.text}`), catalog.registry, opts.registry));
      }
      const replacedBy = [...new Set(published.flatMap((p) => p.replacedBy ?? []))];
      rows.push({
        flavor: flavor.name,
        variant: variant.name,
        description: flavor.description,
        repository,
        arches: [...flavor.arches],
        models: [...flavor.models],
        pins: pins.map((p) => ({ os: p.os, release: p.release, from: p.from, until: p.until })),
        published: published.map((p) => ({ from: p.from, until: p.until })),
        ...(replacedBy.length > 0 ? { replacedBy } : {}),
        ...(flavorReleases.length > 0 ? { flavorReleases } : {}),
        ...(kubernetes.length > 0 ? { kubernetes } : {}),
      });
    }
  }
  return { os: catalog.os, registry: opts.registry ?? catalog.registry, era: era?.name ?? '', version, rows };
}

/** `opensuse-leap 15.4 (before v2.3.0), 15.5 (v2.3.0 and later)`; `ubuntu (unpinned)`. */
export function describePins(pins: MatrixRow['pins']): string {
  if (pins.length === 0) return '-';
  // Adjacent ranges with the same release read as one (ubuntu rolling changes only its tag name).
  const merged: MatrixRow['pins'] = [];
  for (const p of pins) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.os === p.os && last.release === p.release && last.until === p.from) merged[merged.length - 1] = { ...last, until: p.until };
    else merged.push(p);
  }
  pins = merged;
  const os = pins[0]?.os ?? '';
  const parts = pins.map((p) => {
    const rel = p.release ?? 'unpinned';
    return pins.length === 1 ? rel : `${rel} (${describeRange(p)})`;
  });
  return `${os} ${parts.join(', ')}`;
}

export function describePublished(ranges: MatrixRow['published']): string {
  return ranges.map((r) => describeRange(r)).join('; ');
}
