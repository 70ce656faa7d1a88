/**
 * Which catalog flavor an image reference names, pure: the image checks compare an image with its
 * flavor's pin and architectures, so they first need the flavor. Kairos-specific naming, no library.
 *
 *   v1.0 – v2.4.1   the repository says it: `core-<flavor>` (core), `kairos-<flavor>` (standard)
 *   v2.4.2 –        the repository is the family (`opensuse`, `ubuntu`, `alpine`) and the tag carries the
 *                   flavor release and model: the flavor is the one of that family whose pin for the
 *                   release has that flavor release and which ships that model. Some flavors share
 *                   all three (alpine-ubuntu and alpine-opensuse-leap): then every candidate is kept,
 *                   and what they agree on (pin, arches) is still checked.
 */
import { pinFor } from '../catalog/kairos/resolve.js';
import { inRange } from '../version/kairos.js';
import type { Catalog, Flavor, Pin } from '../catalog/kairos/types.js';
import { variantOf } from './rules.js';
import type { ReleaseTag } from './tag.js';

export interface FlavorIdentity {
  /** Catalog flavors the reference fits (one when it is determined). */
  readonly candidates: readonly Flavor[];
  /** Names the Kairos release keys may give as the flavor (flavor names, and the family for v2.4.2+ images). */
  readonly names: readonly string[];
  /** The pin for the tag's release, when every candidate has the same one. */
  readonly pin?: Pin | undefined;
  /** Architectures the flavor ships (every candidate's), when known. */
  readonly arches?: readonly string[] | undefined;
  /** Why the flavor is not known, when `candidates` is empty. */
  readonly reason?: string | undefined;
}

/** Last path component of a repository (`kairos/core-opensuse` → `core-opensuse`). */
function repoName(repository: string): string {
  return repository.slice(repository.lastIndexOf('/') + 1);
}

function exists(flavor: Flavor, variant: string, version: string): boolean {
  return flavor.exists.some((r) => (r.variants === undefined || r.variants.includes(variant)) && inRange(version, r));
}

function samePin(a: Pin | undefined, b: Pin | undefined): boolean {
  return a !== undefined && b !== undefined && a.os === b.os && a.release === b.release;
}

function identity(candidates: readonly Flavor[], version: string, extraNames: readonly string[] = []): FlavorIdentity {
  const pins = candidates.map((f) => pinFor(f, version));
  const first = pins[0];
  const pin = first !== undefined && pins.every((p) => samePin(p, first)) ? first : undefined;
  const arches = [...new Set(candidates.flatMap((f) => f.arches))];
  return { candidates, names: [...new Set([...candidates.map((f) => f.name), ...extraNames])], pin, arches };
}

function unknown(reason: string, names: readonly string[] = []): FlavorIdentity {
  return { candidates: [], names, reason };
}

/** A flavor named by the user (`verify <flavor> <variant>`). */
export function flavorByName(catalog: Catalog, name: string, version: string): FlavorIdentity {
  const f = catalog.flavors.find((x) => x.name === name);
  if (f === undefined) return unknown(`the catalog has no flavor "${name}"`);
  return identity([f], version, versionHasFamilyNames(version) ? [f.family] : []);
}

const FAMILY_NAMING_SINCE = 'v2.4.2';

function versionHasFamilyNames(version: string): boolean {
  return inRange(version, { from: FAMILY_NAMING_SINCE });
}

/** The flavor an image reference (`repository` path and parsed tag) names. */
export function identifyFlavor(catalog: Catalog, repository: string, tag: ReleaseTag): FlavorIdentity {
  const name = repoName(repository);
  const variant = variantOf(tag);
  if (tag.era === 'v1') {
    const m = /^(core|kairos)-(.+?)(?:-img)?$/.exec(name);
    if (m === null) return unknown(`repository "${name}" is not named core-<flavor> or kairos-<flavor>`);
    const repoVariant = m[1] === 'core' ? 'core' : 'standard';
    const flavor = catalog.flavors.find((f) => f.name === m[2]);
    if (flavor === undefined) return unknown(`the catalog has no flavor "${m[2] ?? ''}" (from repository ${name})`, [m[2] ?? '']);
    if (repoVariant !== variant) {
      return unknown(`repository ${name} holds ${repoVariant} images but the tag names a ${variant} image`, [flavor.name]);
    }
    return identity([flavor], tag.version);
  }
  const family = catalog.flavors.filter((f) => f.family === name);
  if (family.length === 0) return unknown(`repository "${name}" is no flavor family of the catalog`);
  const shipped = family.filter((f) => (tag.model === undefined || f.models.includes(tag.model)) && exists(f, variant, tag.version));
  // A flavor pinned to the tag's flavor release names it; else a flavor that takes any release of its family.
  const pinned = shipped.filter((f) => pinFor(f, tag.version)?.flavorRelease === tag.flavorRelease);
  const free = shipped.filter((f) => {
    const pin = pinFor(f, tag.version);
    if (pin === undefined || pin.flavorRelease !== undefined) return false;
    return pin.flavorReleases === undefined || (tag.flavorRelease !== undefined && pin.flavorReleases.includes(tag.flavorRelease)) || pin.os === name;
  });
  const fits = pinned.length > 0 ? pinned : free;
  if (fits.length === 0) {
    return unknown(
      `no ${name} flavor of the catalog is pinned to "${tag.flavorRelease ?? ''}" with model ${tag.model ?? '?'} at ${tag.version}`,
      [name],
    );
  }
  return identity(fits, tag.version, [name]);
}
