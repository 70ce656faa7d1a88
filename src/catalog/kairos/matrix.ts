/** The support matrix (flavor × variant → repository, arches, pins) as the `flavors` command shows it. Pure. */
import { parseReference, repositoryName, rewriteRegistry } from '../../reference/reference.js';
import { expandTemplate } from './template.js';
import { eraFor, normalizeVersion } from './resolve.js';
import { describeRange, inRange } from '../../version/kairos.js';
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
}

export interface Matrix {
  os: string;
  registry: string;
  era: string;
  version?: string | undefined;
  rows: MatrixRow[];
}

export function buildMatrix(catalog: Catalog, opts: { version?: string | undefined; registry?: string | undefined } = {}): Matrix {
  const version = opts.version === undefined ? undefined : normalizeVersion(opts.version);
  // Without a version: the first era, the naming of the seed's table.
  const era: Era | undefined = version === undefined ? catalog.eras[0] : eraFor(catalog, version);
  const rows: MatrixRow[] = [];
  for (const flavor of catalog.flavors) {
    for (const variant of catalog.variants) {
      const published = flavor.exists.filter((x) => x.variants === undefined || x.variants.includes(variant.name));
      if (published.length === 0) continue;
      if (version !== undefined && !published.some((r) => inRange(version, r))) continue;
      const pins: Pin[] = version === undefined ? [...flavor.pins] : flavor.pins.filter((p) => inRange(version, p));
      const pinForName = pins[pins.length - 1];
      const tpl = era?.image[variant.name];
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
