/**
 * Referrers of a manifest (distribution-spec 1.1): the artifacts whose `subject` names it —
 * ORAS attachments, Sigstore bundles, SBOMs. Listed through the referrers API
 * (`GET /v2/<name>/referrers/<digest>`) where the registry has one, else through the referrers
 * tag schema (the tag `<alg>-<hex>` holding an image index of referrer descriptors). "No API" is
 * detected as oras-go does: a 404 that is not NAME_UNKNOWN, or an answer that is not an index;
 * the finding is remembered per repository for the life of the client.
 *
 * Adding a referrer where the registry does not index it (no `OCI-Subject` on the manifest PUT)
 * is a read-modify-write of that index: every entry already there is kept, ours is appended, and
 * the index is read back until it holds everything we saw (two writers racing on one tag would
 * otherwise drop each other's entries); the superseded index is deleted, as oras-go does.
 */
import { KairosImgError, isKairosImgError } from '../errors.js';
import { parseDigest, type Descriptor, type ImageIndex } from '../oci/index.js';
import { referrersTag, withReferrer, type ArtifactDescriptor } from '../oci/artifact.js';
import { repositoryName, type Reference } from '../reference/reference.js';
import type { RegistryClient } from './client.js';

/** A repository on a registry, with the client that talks to it. */
export interface ReferrersTarget {
  client: RegistryClient;
  registry: string;
  repository: string;
}

export interface ListReferrersOptions {
  /** Only referrers of this artifactType. */
  artifactType?: string | undefined;
  signal?: AbortSignal | undefined;
}

export type ReferrersSource = 'api' | 'tag-schema';

export interface FoundReferrers {
  referrers: ArtifactDescriptor[];
  via: ReferrersSource;
}

const capability = new WeakMap<RegistryClient, Map<string, ReferrersSource>>();

function known(t: ReferrersTarget): ReferrersSource | undefined {
  return capability.get(t.client)?.get(repositoryName(t));
}

function remember(t: ReferrersTarget, via: ReferrersSource): void {
  let m = capability.get(t.client);
  if (m === undefined) {
    m = new Map();
    capability.set(t.client, m);
  }
  m.set(repositoryName(t), via);
}

function byType(list: ArtifactDescriptor[], artifactType: string | undefined): ArtifactDescriptor[] {
  return artifactType === undefined ? list : list.filter((d) => d.artifactType === artifactType);
}

/** The referrers index the tag schema holds for a subject (undefined: no such tag). */
async function readIndex(t: ReferrersTarget, subjectDigest: string, signal: AbortSignal | undefined): Promise<{ index: ImageIndex; digest: string } | undefined> {
  const ref: Reference = { registry: t.registry, repository: t.repository, tag: referrersTag(subjectDigest) };
  try {
    const doc = await t.client.fetchManifest(ref, { signal });
    if (doc.kind !== 'index') {
      throw new KairosImgError('BAD_REFERRERS_INDEX', `${repositoryName(t)}:${ref.tag ?? ''} holds a ${doc.descriptor.mediaType}, not the image index of the referrers tag schema`, {
        hint: 'something else was pushed under the referrers tag; remove that tag to let the referrers index be rebuilt',
      });
    }
    return { index: doc.manifest, digest: doc.descriptor.digest };
  } catch (e) {
    if (isKairosImgError(e) && e.code === 'MANIFEST_UNKNOWN') return undefined;
    throw e;
  }
}

/** The referrers of `subjectDigest`, and whether the API or the tag schema answered. */
export async function findReferrers(t: ReferrersTarget, subjectDigest: string, opts: ListReferrersOptions = {}): Promise<FoundReferrers> {
  parseDigest(subjectDigest);
  if (known(t) !== 'tag-schema') {
    const api = await t.client.referrersApi(t, subjectDigest, { artifactType: opts.artifactType, signal: opts.signal });
    if (api.supported) {
      remember(t, 'api');
      // A registry that did not apply the filter returns everything: filter here.
      const filtered = api.filtersApplied.includes('artifactType') ? api.manifests : byType(api.manifests as ArtifactDescriptor[], opts.artifactType);
      return { referrers: filtered as ArtifactDescriptor[], via: 'api' };
    }
    remember(t, 'tag-schema');
  }
  const found = await readIndex(t, subjectDigest, opts.signal);
  return { referrers: byType((found?.index.manifests ?? []) as ArtifactDescriptor[], opts.artifactType), via: 'tag-schema' };
}

/**
 * The descriptors of the manifests that refer to `subjectDigest` (optionally of one artifactType),
 * by the referrers API or the referrers tag schema — whichever the registry supports.
 */
export async function listReferrers(t: ReferrersTarget, subjectDigest: string, opts: ListReferrersOptions = {}): Promise<ArtifactDescriptor[]> {
  return (await findReferrers(t, subjectDigest, opts)).referrers;
}

export interface IndexReferrerResult {
  /** The referrers tag now holding the index, or undefined when the registry indexed it itself. */
  tag?: string | undefined;
  indexDigest?: string | undefined;
  /** Entries in the index after the update. */
  entries: number;
}

/**
 * Records `referrer` (a manifest whose subject is `subject`) in the referrers tag schema, keeping
 * every entry already listed. Call it when the manifest PUT did not answer `OCI-Subject`.
 */
export async function indexReferrer(t: ReferrersTarget, subject: Pick<Descriptor, 'digest'>, referrer: ArtifactDescriptor, opts: { signal?: AbortSignal | undefined } = {}): Promise<IndexReferrerResult> {
  const tag = referrersTag(subject.digest);
  const ref: Reference = { registry: t.registry, repository: t.repository, tag };
  const wanted = new Map<string, ArtifactDescriptor>();
  const superseded = new Set<string>();
  let last: { digest: string; entries: number } | undefined;
  for (let round = 0; round < 5; round++) {
    const current = await readIndex(t, subject.digest, opts.signal);
    for (const m of (current?.index.manifests ?? []) as ArtifactDescriptor[]) if (!wanted.has(m.digest)) wanted.set(m.digest, m);
    if (!wanted.has(referrer.digest)) wanted.set(referrer.digest, referrer);
    const listed = new Set((current?.index.manifests ?? []).map((m) => m.digest));
    if (current !== undefined && [...wanted.keys()].every((d) => listed.has(d))) {
      last = { digest: current.digest, entries: listed.size };
      break;
    }
    // Existing entries first, in their order; then those only seen in earlier reads; then ours.
    const base: ImageIndex | undefined = current === undefined ? undefined : { ...current.index, manifests: [...current.index.manifests] };
    let next = base;
    for (const m of wanted.values()) next = withReferrer(next, m).index;
    const built = withReferrer(next, referrer);
    const put = await t.client.putManifest(ref, { mediaType: built.index.mediaType ?? 'application/vnd.oci.image.index.v1+json', raw: built.raw }, opts);
    if (current !== undefined && current.digest !== put.digest) superseded.add(current.digest);
    last = { digest: put.digest, entries: built.index.manifests.length };
  }
  if (last === undefined) throw new KairosImgError('REFERRERS_INDEX_RACE', `the referrers index ${repositoryName(t)}:${tag} kept changing under kairos-img`, { hint: 'another push is updating it; run the attach again' });
  for (const d of superseded) {
    if (d === last.digest) continue;
    // The old index is unreferenced now; a registry that forbids deletes keeps it (harmless).
    await t.client.deleteManifest(t, d, opts).catch(() => false);
  }
  return { tag, indexDigest: last.digest, entries: last.entries };
}
