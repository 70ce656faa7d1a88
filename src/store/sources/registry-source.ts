/**
 * The registry as an image source: a thin wrapper over the registry client for one reference.
 * The client is asked for lazily (an operation served from the cache never makes one), and the
 * operation may hand in its own manifest lookup (the one whose errors name the closest tags).
 */
import { formatReference, withDigest, type Reference } from '../../reference/reference.js';
import type { ManifestResult, RegistryClient } from '../../registry/index.js';
import type { Platform } from '../../oci/index.js';
import { checkedBytes, type ImageSource } from './source.js';

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
    // The document as served, without choosing a platform: an arm64-only index is mirrored from an amd64 host too.
    async root(o = {}) {
      const doc = await opts.client().fetchManifest(ref, { signal: o.signal });
      return { descriptor: doc.descriptor, raw: doc.raw };
    },
    async manifestBytes(d, o = {}) {
      const doc = await opts.client().fetchManifest(withDigest(ref, d.digest), { signal: o.signal });
      return checkedBytes(d, doc.raw, `manifest ${d.digest} of ${formatReference(ref)}`);
    },
    manifest: (o = {}) => getManifest(o),
    blob: (d, o = {}) => opts.client().fetchBlob(ref, d, { signal: o.signal, onProgress: o.onProgress, hash: o.verify, pooled: o.pooled }),
    close: async () => undefined,
  };
}
