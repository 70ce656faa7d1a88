/**
 * Flavor releases: the upstream release a Kairos tag names in its first position (`22.04`,
 * `leap-15.6`, `3.21`, `bookworm`, `tumbleweed-latest`, Hadron's own `v0.2.0`). They are names,
 * not one grammar, so the order is digit-aware text order (`v0.10.0` after `v0.9.1`, `24.10`
 * after `24.04`); it is used only to pick the newest of one flavor's releases. Pure.
 */

const COLLATOR = new Intl.Collator('en', { numeric: true });

/** Oldest first. Newest first is `newestFirst(compareFlavorReleases)`. */
export function compareFlavorReleases(a: string, b: string): number {
  return COLLATOR.compare(a, b);
}

/** What a flavor release may be written as inside a tag (no `-core-`/`-standard-` boundary is checked here). */
export const FLAVOR_RELEASE_PATTERN = '[A-Za-z0-9][A-Za-z0-9._-]*';

const FLAVOR_RELEASE = new RegExp(`^${FLAVOR_RELEASE_PATTERN}$`);

export function isFlavorRelease(text: string): boolean {
  return FLAVOR_RELEASE.test(text) && !/-(?:core|standard)-/.test(`-${text}-`);
}
