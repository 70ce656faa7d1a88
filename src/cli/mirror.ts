/**
 * `--registry HOST[:PORT]` stands in for the registries the OS catalogs publish on (quay.io for
 * Kairos, ghcr.io for Talos): catalog-named images and full references to those registries alike go to it.
 */
import { OS_CATALOGS } from '../catalog/index.js';
import { rewriteRegistry, type Reference } from '../reference/reference.js';

export async function upstreamRegistries(): Promise<string[]> {
  const lists = await Promise.all(OS_CATALOGS.map((c) => c.registries()));
  return [...new Set(lists.flat())];
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
