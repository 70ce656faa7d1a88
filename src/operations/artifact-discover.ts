/**
 * `artifact discover`: the referrers of a manifest, and theirs in turn (a tree, as `oras discover`
 * shows it), through the registry's referrers API or the referrers tag schema.
 */
import { KairosImgError, usageError } from '../errors.js';
import { formatReference, parseReference, repositoryName, type Reference } from '../reference/reference.js';
import { findReferrers, type ReferrersSource } from '../registry/index.js';
import { lazyClient, type OperationOptions } from './common.js';
import { emitter } from './events.js';
import type { ArtifactDiscoverEvent } from './artifact-events.js';

export interface ArtifactDiscoverOptions extends Pick<OperationOptions<ArtifactDiscoverEvent>, 'plainHttp' | 'env' | 'client' | 'signal' | 'onEvent'> {
  reference: Reference | string;
  artifactType?: string | undefined;
  /** Levels of referrers of referrers (default 8; 1: the subject's own only). */
  depth?: number | undefined;
}

export interface DiscoveredReferrer {
  /** `registry/repository@digest` */
  reference: string;
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string | undefined;
  annotations?: Record<string, string> | undefined;
  referrers: DiscoveredReferrer[];
}

export interface ArtifactDiscoverSummary {
  reference: string;
  mediaType: string;
  digest: string;
  size: number;
  /** How the registry answered: its referrers API, or the referrers tag schema. */
  via: ReferrersSource;
  referrers: DiscoveredReferrer[];
}

export async function artifactDiscover(opts: ArtifactDiscoverOptions): Promise<ArtifactDiscoverSummary> {
  const emit = emitter(opts.onEvent);
  const ref = typeof opts.reference === 'string' ? parseReference(opts.reference) : opts.reference;
  if (ref.tag === undefined && ref.digest === undefined) throw usageError('BAD_REFERENCE', `${formatReference(ref)} names neither a tag nor a digest`, 'add :<tag> or @sha256:<digest>');
  emit({ type: 'resolved', reference: formatReference(ref), source: 'reference' });
  const client = lazyClient(opts, emit).get();
  const head = await client.headManifest(ref, { signal: opts.signal });
  if (head === undefined) throw new KairosImgError('MANIFEST_UNKNOWN', `${formatReference(ref)} does not exist`, { details: { reference: formatReference(ref) } });
  emit({ type: 'artifact-subject', reference: formatReference(ref), digest: head.digest, mediaType: head.mediaType });
  const target = { client, registry: ref.registry, repository: ref.repository };
  const maxDepth = Math.max(1, opts.depth ?? 8);
  const visited = new Set<string>([head.digest]);
  let via: ReferrersSource = 'tag-schema';

  const level = async (digest: string, depth: number, artifactType: string | undefined): Promise<DiscoveredReferrer[]> => {
    const found = await findReferrers(target, digest, { artifactType, signal: opts.signal });
    if (depth === 1) via = found.via;
    const out: DiscoveredReferrer[] = [];
    for (const r of found.referrers) {
      // A referrer graph may loop (a registry's or a pusher's bug): each manifest is shown once.
      const seen = visited.has(r.digest);
      visited.add(r.digest);
      out.push({
        reference: `${repositoryName(ref)}@${r.digest}`, mediaType: r.mediaType, digest: r.digest, size: r.size,
        ...(r.artifactType !== undefined ? { artifactType: r.artifactType } : {}),
        ...(r.annotations !== undefined ? { annotations: r.annotations } : {}),
        // The filter applies to the subject's referrers; below them everything is shown (as oras does).
        referrers: seen || depth >= maxDepth ? [] : await level(r.digest, depth + 1, undefined),
      });
    }
    return out;
  };
  const referrers = await level(head.digest, 1, opts.artifactType);
  emit({ type: 'artifact-referrers-found', count: referrers.length, via });
  return { reference: formatReference(ref), mediaType: head.mediaType, digest: head.digest, size: head.size, via, referrers };
}
