/**
 * The registry as an `AttachmentSource` for src/signature: manifests (a missing tag is "none", not
 * an error), capped blobs verified against their digest, and referrers.
 *
 * The referrers lister here is a stopgap: it reads the referrers tag schema only (`sha256-<hex>`,
 * an index of referrer descriptors), which is where cosign v3 stores bundles on registries without
 * the referrers API. The general client (referrers API with the tag-schema fallback) belongs to
 * src/registry/referrers.ts; `signatureSource(client, listReferrers)` takes it as its second argument.
 */
import type { Reference } from '../reference/reference.js';
import type { RegistryClient } from '../registry/index.js';
import { referrersTag } from '../signature/cosign.js';
import { isMissingManifest } from './extract-img.js';
import { SIGNATURE_BLOB_CAP, type AttachmentSource, type ListReferrers, type ReferrerDescriptor } from '../signature/discover.js';

/** Referrers from the tag schema's index (distribution-spec "Referrers Tag Schema"). */
export function tagSchemaReferrers(client: RegistryClient): ListReferrers {
  return async (repo, digest, opts) => {
    let doc;
    try {
      doc = await client.fetchManifest({ registry: repo.registry, repository: repo.repository, tag: referrersTag(digest) }, { signal: opts.signal });
    } catch (e) {
      if (isMissingManifest(e)) return [];
      throw e;
    }
    if (doc.kind !== 'index') return [];
    const all = doc.manifest.manifests as ReferrerDescriptor[];
    return opts.artifactType === undefined ? all : all.filter((d) => d.artifactType === opts.artifactType);
  };
}

export function signatureSource(client: RegistryClient, listReferrers: ListReferrers = tagSchemaReferrers(client)): AttachmentSource {
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
