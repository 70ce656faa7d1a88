/**
 * `--registry HOST[:PORT]` stands in for the registries the catalogs publish on (quay.io for Kairos,
 * ghcr.io for Talos): catalog-named images and full references to those registries alike go to it.
 */
import { loadCatalog } from '../catalog/load.js';
import { loadTalosMatrix } from '../catalog/talos/load.js';
import { rewriteRegistry, type Reference } from '../reference/reference.js';

export async function upstreamRegistries(): Promise<string[]> {
  const [kairos, talos] = await Promise.all([loadCatalog('kairos'), loadTalosMatrix()]);
  return [...new Set([kairos.registry, talos.images.registry])];
}

/** The reference with `--registry` applied; `latest` when it names neither tag nor digest (as docker does). */
export async function mirrored(ref: Reference, registry: string | undefined, opts: { defaultTag?: boolean } = {}): Promise<Reference> {
  let out = ref;
  if (registry !== undefined) {
    for (const upstream of await upstreamRegistries()) out = rewriteRegistry(out, upstream, registry);
  }
  if (opts.defaultTag !== false && out.tag === undefined && out.digest === undefined) out = { ...out, tag: 'latest' };
  return out;
}
