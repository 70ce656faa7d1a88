/**
 * The registry as an image source: a thin wrapper over the registry client for one reference.
 * The client is asked for lazily (an operation served from the cache never makes one), and the
 * operation may hand in its own manifest lookup (the one whose errors name the closest tags).
 */
import { formatReference, withDigest, type Reference } from '../../reference/reference.js';
import type { ManifestResult, RegistryClient } from '../../registry/index.js';
import type { Platform } from '../../oci/index.js';
import type { ImageSource } from './source.js';

export interface RegistrySourceOptions {
  client: () => RegistryClient;
  reference: Reference;
  label?: string | undefined;
  /** Replaces `client.getManifest(reference, …)` for `manifest()`. */
  getManifest?: ((opts: { platform?: Platform | undefined; signal?: AbortSignal | undefined }) => Promise<ManifestResult>) | undefined;
}

export function registrySource(opts: RegistrySourceOptions): ImageSource {
  const ref = opts.reference;
  const getManifest = opts.getManifest ?? ((o) => opts.client().getManifest(ref, o));
  return {
    kind: 'registry',
    label: opts.label ?? formatReference(ref),
    reference: ref,
    async root(o = {}) {
      const m = await getManifest(o);
      return m.index !== undefined ? { descriptor: m.index.descriptor, raw: m.index.raw } : { descriptor: m.descriptor, raw: m.raw };
    },
    async manifestBytes(d, o = {}) {
      const m = await opts.client().getManifest(withDigest(ref, d.digest), { signal: o.signal });
      return m.index !== undefined && m.index.descriptor.digest === d.digest ? m.index.raw : m.raw;
    },
    manifest: (o = {}) => getManifest(o),
    blob: (d, o = {}) => opts.client().fetchBlob(ref, d, { signal: o.signal, onProgress: o.onProgress, hash: o.verify }),
    close: async () => undefined,
  };
}
