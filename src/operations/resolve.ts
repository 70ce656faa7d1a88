/**
 * From what a user names (`<flavor> <variant>`, `talos <image>`, maybe a version and a k3s
 * version) to one image reference: the OS catalog the name belongs to resolves it, offline when
 * it has everything, otherwise by asking the registry through `tags` for the newest release.
 */
import { catalogFor, catalogNamedBy, kairosOsCatalog, type Catalog, type CatalogRequest, type OsCatalog, type Resolution } from '../catalog/index.js';

export type { Resolution, TagSource } from '../catalog/index.js';

export interface ResolveOptions extends CatalogRequest {
  /** The OS catalog to use (`kairos`, `talos`); by default the one the flavor names (`talos` → Talos, any other word → Kairos). */
  os?: string;
  /** A Kairos catalog to resolve against instead of flavors/kairos.yaml. */
  catalog?: Catalog;
}

function catalogOf(opts: ResolveOptions): OsCatalog {
  if (opts.catalog !== undefined) {
    const catalog = opts.catalog;
    return kairosOsCatalog(async () => catalog);
  }
  return opts.os === undefined ? catalogNamedBy(opts.flavor) : catalogFor(opts.os);
}

export async function resolve(opts: ResolveOptions): Promise<Resolution> {
  return catalogOf(opts).resolve(opts);
}

/** The facts of a resolution worth reporting (JSON output, library results). */
export interface ResolutionFacts {
  flavor: string;
  variant: string;
  version: string;
  k3s: string | null;
  arch: string;
  model: string;
  era: string;
  discovered: boolean;
  pin: { os: string; release: string | null } | null;
}

export function resolutionFacts(r: Resolution): ResolutionFacts {
  return {
    flavor: r.flavor, variant: r.variant, version: r.version, k3s: r.k3s ?? null, arch: r.arch, model: r.model, era: r.era,
    discovered: r.discovered, pin: r.pin === undefined ? null : { os: r.pin.os, release: r.pin.release },
  };
}
