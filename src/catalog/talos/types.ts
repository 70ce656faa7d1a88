/** The validated shape of flavors/talos.yaml: the Talos Linux support matrix. */

/** A Talos minor (`1.3`, `1.10`): the unit the support matrix speaks of. */
export type TalosMinor = string;

/** Platform rows of the matrix, in the seed's order. */
export const PLATFORM_GROUPS = ['cloud', 'bareMetal', 'virtualized', 'sbcs', 'local'] as const;
export type PlatformGroup = (typeof PLATFORM_GROUPS)[number];
/** Groups whose cells list platform names (bare metal lists firmware and boot methods instead). */
export const NAMED_GROUPS = ['cloud', 'virtualized', 'sbcs', 'local'] as const satisfies readonly PlatformGroup[];
export type NamedGroup = (typeof NAMED_GROUPS)[number];

export const TIERS = ['1', '2', '3'] as const;
export type Tier = (typeof TIERS)[number];

export interface TalosPlatforms {
  readonly cloud: readonly string[];
  /** `x86: [BIOS, UEFI]`, `arm64: [UEFI]`, `boot: [ISO, PXE, disk image]`, in file order. */
  readonly bareMetal: ReadonlyArray<{ readonly key: string; readonly values: readonly string[] }>;
  readonly virtualized: readonly string[];
  readonly sbcs: readonly string[];
  readonly local: readonly string[];
}

export interface TalosRelease {
  readonly version: TalosMinor;
  /** `2022-09-01`, and the release it names when the matrix says so (`1.2.0`). */
  readonly released: { readonly date: string; readonly release?: string | undefined };
  /** Community support ends with the next minor's release, on this date (inclusive). */
  readonly communitySupportEnds: { readonly release: string; readonly date: string; readonly tbd: boolean };
  readonly enterpriseSupport: { readonly text: string; readonly url?: string | undefined };
  /** Kubernetes minors supported, inclusive at both ends. */
  readonly kubernetes: { readonly min: string; readonly max: string };
  readonly arches: readonly string[];
  readonly platforms: TalosPlatforms;
  /** Minimum versions of the Cluster API providers and Sidero. */
  readonly capi: { readonly bootstrap: string; readonly controlPlane: string; readonly sidero: string };
  /** Platform names per tier, as the matrix writes them. */
  readonly tiers: Readonly<Record<Tier, readonly string[]>>;
  /** The oldest minor this version's installer upgrades from. */
  readonly upgradeFrom: TalosMinor;
}

export interface TalosPlatform {
  /** Canonical name, as the matrix writes it. */
  readonly name: string;
  readonly aliases: readonly string[];
}

export interface TalosImage {
  readonly name: string;
  readonly description: string;
  /** First minor that publishes it (inclusive), if bounded. */
  readonly from?: TalosMinor | undefined;
  /** First minor that no longer publishes it (exclusive), if bounded. */
  readonly until?: TalosMinor | undefined;
}

export interface TalosMatrix {
  readonly source: string;
  readonly os: string;
  readonly name: string;
  readonly images: { readonly registry: string; readonly namespace: string; readonly list: readonly TalosImage[] };
  readonly platforms: readonly TalosPlatform[];
  /** Oldest first. */
  readonly versions: readonly TalosRelease[];
}
