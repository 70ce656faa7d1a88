/** The validated shape of the Kairos catalog file (flavors/kairos.yaml). */
import type { VersionRange } from '../../version/kairos.js';
import type { UpstreamPin } from '../os.js';

export type { VersionRange };

export type Variant = string;

export interface RefTemplate {
  readonly repository: string;
  readonly tag: string;
}

export interface Era extends VersionRange {
  readonly name: string;
  /** Templates per variant for the OS image. */
  readonly image: Readonly<Record<Variant, RefTemplate>>;
  /** Templates per variant for the arm disk-image artifact. */
  readonly artifact: Readonly<Record<Variant, RefTemplate>>;
}

export interface Existence extends VersionRange {
  /** Variants this range applies to; all when absent. */
  readonly variants?: readonly Variant[] | undefined;
  readonly replacedBy?: readonly string[] | undefined;
  /** Kubernetes distributions standard images carry in this range; the variant's default when absent. */
  readonly kubernetes?: readonly string[] | undefined;
}

export interface Pin extends VersionRange, UpstreamPin {
  /** Upstream OS id as its os-release ID says (`ubuntu`, `opensuse-leap`, `alpine`). */
  readonly os: string;
  /** Upstream release the flavor is pinned to; null when it tracks upstream. */
  readonly release: string | null;
  /** The release as v2.4.2+ tags write it by default (`22.04`, `leap-15.5`); absent: none is assumed. */
  readonly flavorRelease?: string | undefined;
  /** The flavor releases published in this range (listings, hints); `[flavorRelease]` when absent. */
  readonly flavorReleases?: readonly string[] | undefined;
}

export interface Flavor {
  readonly name: string;
  readonly description: string;
  readonly family: string;
  readonly arches: readonly string[];
  readonly models: readonly string[];
  readonly exists: readonly Existence[];
  readonly pins: readonly Pin[];
}

export interface VariantInfo {
  readonly name: Variant;
  readonly description: string;
  /** Kubernetes distribution the variant ships, if any (standard → k3s). */
  readonly kubernetes?: string | undefined;
}

export interface Catalog {
  /** Where the catalog was loaded from, for error messages. */
  readonly source: string;
  readonly os: string;
  readonly name: string;
  readonly registry: string;
  readonly namespace: string;
  readonly variants: readonly VariantInfo[];
  readonly arches: readonly string[];
  readonly models: readonly string[];
  /** Oldest first. */
  readonly eras: readonly Era[];
  readonly flavors: readonly Flavor[];
  /** Arches a board model is built for (boards are arm64); a model not listed fits every arch. */
  readonly modelArches: Readonly<Record<string, readonly string[]>>;
  /** The releases in which trusted-boot (`-uki`) images exist; undefined: none. */
  readonly uki?: VersionRange | undefined;
  /** Changelog URL templates (`{version}`), the first matching entry wins. */
  readonly changelogs: readonly Changelog[];
  /** Who signs the releases (keyless cosign): the OIDC issuer and a pattern of the signing workflows. */
  readonly signing?: Signing | undefined;
}

export interface Signing {
  readonly issuer: string;
  readonly identityRegexp: string;
}

export interface Changelog extends VersionRange {
  readonly variants?: readonly Variant[] | undefined;
  readonly urls: readonly string[];
}
