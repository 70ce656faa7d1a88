/**
 * Where a Kairos release's changes are written up: the catalog's `changelogs` entries (the GitHub
 * release pages of kairos-io/kairos, and of kairos-io/provider-kairos for the standard images it
 * released), the first matching entry winning. Pure.
 */
import { inRange } from '../../version/kairos.js';
import { expandTemplate } from './template.js';
import type { Catalog } from './types.js';

export function changelogUrls(catalog: Catalog, variant: string, version: string): string[] {
  const entry = catalog.changelogs.find((c) => (c.variants === undefined || c.variants.includes(variant)) && inRange(version, c));
  if (entry === undefined) return [];
  return entry.urls.flatMap((u) => {
    const r = expandTemplate(u, { version });
    return 'text' in r ? [r.text] : [];
  });
}
