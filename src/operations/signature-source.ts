/**
 * The registry as an `AttachmentSource` for src/signature: manifests (a missing tag is "none", not
 * an error), capped blobs verified against their digest, and referrers through the referrers API,
 * or the referrers tag schema on registries without it (src/registry/referrers.ts).
 */
import type { Reference } from '../reference/reference.js';
import { listReferrers as registryReferrers, type RegistryClient } from '../registry/index.js';
import { isMissingManifest } from './extract-img.js';
import { SIGNATURE_BLOB_CAP, type AttachmentSource, type ListReferrers } from '../signature/discover.js';

/** The registry's referrers of a subject (API first, then the tag schema). */
export function registryReferrersOf(client: RegistryClient): ListReferrers {
  return (repo, digest, opts) => registryReferrers({ client, registry: repo.registry, repository: repo.repository }, digest, opts);
}

export function signatureSource(client: RegistryClient, listReferrers: ListReferrers = registryReferrersOf(client)): AttachmentSource {
  return {
    async manifest(ref: Reference, signal?: AbortSignal) {
      try {
        return await client.fetchManifest(ref, { signal });
      } catch (e) {
        if (isMissingManifest(e)) return undefined;
        throw e;
      }
    },
    blob: (repo, desc, signal) => client.fetchBlobToBuffer(repo, desc, { signal, cap: SIGNATURE_BLOB_CAP * 8 }),
    referrers: listReferrers,
  };
}
