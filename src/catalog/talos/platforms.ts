/** Platform names of the Talos matrix: case-insensitive lookup through names and aliases (both data). Pure. */
import type { NamedGroup, Tier, TalosMatrix, TalosPlatform, TalosRelease } from './types.js';
import { NAMED_GROUPS, TIERS } from './types.js';

/** The form names are compared in: case and surrounding space do not matter. */
export function platformKey(name: string): string {
  return name.trim().toLowerCase();
}

/** Lower-cased name and alias → canonical name. */
export function platformIndex(platforms: readonly TalosPlatform[]): Map<string, string> {
  const index = new Map<string, string>();
  for (const p of platforms) {
    index.set(platformKey(p.name), p.name);
    for (const a of p.aliases) index.set(platformKey(a), p.name);
  }
  return index;
}

/** The canonical name of what the user wrote, or undefined. */
export function findPlatform(matrix: Pick<TalosMatrix, 'platforms'>, input: string): string | undefined {
  return platformIndex(matrix.platforms).get(platformKey(input));
}

/** The named rows (cloud, virtualized, SBCs, local) where the release lists this platform. */
export function groupsListing(release: TalosRelease, canonical: string, index: Map<string, string>): NamedGroup[] {
  return NAMED_GROUPS.filter((g) => release.platforms[g].some((n) => index.get(platformKey(n)) === canonical));
}

export function tierOf(release: TalosRelease, canonical: string, index: Map<string, string>): Tier | undefined {
  return TIERS.find((t) => release.tiers[t].some((n) => index.get(platformKey(n)) === canonical));
}

/** Platforms that no release lists in a row, only in tiers (Metal, nocloud). */
export function tierOnlyPlatforms(matrix: TalosMatrix): Set<string> {
  const index = platformIndex(matrix.platforms);
  const inRows = new Set(matrix.versions.flatMap((r) => NAMED_GROUPS.flatMap((g) => r.platforms[g].map((n) => index.get(platformKey(n))))));
  return new Set(matrix.platforms.map((p) => p.name).filter((n) => !inRows.has(n)));
}
