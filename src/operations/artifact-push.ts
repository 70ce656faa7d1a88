/**
 * `artifact push` and `artifact attach`: files and directories as an ORAS artifact, in the shape
 * `oras push` / `oras attach` write (src/oci/artifact.ts). Each path is read once for its digest
 * (a directory is packed into a temporary gzip on the way), the blobs are uploaded concurrently
 * (skipped when the registry has them), and the manifest is PUT last — a registry refuses a
 * manifest whose blobs are missing, so a failed push never leaves one behind. Attach adds the
 * subject and, where the registry does not index referrers itself, the referrers tag schema entry.
 */
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { KairosImgError, usageError } from '../errors.js';
import {
  ArtifactMediaType, EMPTY_BLOB, EMPTY_DESCRIPTOR, buildArtifactManifest, directoryLayer, fileLayer, parseFileArgument, referrerDescriptor, titleConflict, titleForPath,
  type ArtifactDescriptor,
} from '../oci/artifact.js';
import { formatReference, parseReference, repositoryName, type Reference } from '../reference/reference.js';
import { bufferSource, fileSource, indexReferrer, type BlobSource, type PushBlobResult, type RegistryClient } from '../registry/index.js';
import { digestFile, packDirectory, type PackedDirectory } from '../artifacts/oras-content.js';
import { lazyClient, type OperationOptions } from './common.js';
import { emitter } from './events.js';
import type { ArtifactFileInfo, ArtifactPushEvent } from './artifact-events.js';

/** A path to push, with the media type of its layer (default: oras' defaults for files and directories). */
export interface ArtifactFileSpec {
  path: string;
  mediaType?: string | undefined;
}

export interface ArtifactPushCommon extends Pick<OperationOptions<ArtifactPushEvent>, 'plainHttp' | 'env' | 'client' | 'signal' | 'onEvent'> {
  /** Paths, or `path[:mediaType]` strings as oras takes them. Relative to `cwd`; the title is the path as given. */
  files: Array<string | ArtifactFileSpec>;
  artifactType?: string | undefined;
  /** Manifest annotations (`org.opencontainers.image.created` is added when missing). */
  annotations?: Record<string, string> | undefined;
  /** Blobs uploaded at once (default 5, as oras). */
  concurrency?: number | undefined;
  cwd?: string | undefined;
  /** Where directories are packed before upload (default the system temporary directory). */
  tempDir?: string | undefined;
  /** Blobs above this size go in chunks (default 64 MiB). */
  chunkSize?: number | undefined;
  now?: Date | undefined;
}

export interface ArtifactPushOptions extends ArtifactPushCommon {
  /** `registry/repository:tag` (no tag: the manifest is pushed by digest only). */
  reference: Reference | string;
}

export interface ArtifactAttachOptions extends ArtifactPushCommon {
  /** The manifest to attach to: `registry/repository:tag` or `@digest`. */
  subject: Reference | string;
  artifactType: string;
}

export interface PushedLayer {
  title: string;
  kind: 'file' | 'directory';
  mediaType: string;
  digest: string;
  size: number;
  how: PushBlobResult['how'];
  /** Packed directories: sha256 of the uncompressed tar. */
  contentDigest?: string | undefined;
}

export interface ArtifactPushSummary {
  /** What was pushed: `registry/repository:tag`, or `…@digest` when there was no tag. */
  reference: string;
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string;
  annotations: Record<string, string>;
  layers: PushedLayer[];
  /** Blobs sent (not already in the registry or mounted). */
  uploaded: number;
}

export interface ArtifactAttachSummary extends ArtifactPushSummary {
  subject: { reference: string; digest: string; mediaType: string; size: number };
  /** How the referrer is found: the registry indexed it (referrers API), or the referrers tag. */
  referrers: { via: 'registry' | 'tag-schema'; tag?: string | undefined; entries?: number | undefined };
}

interface Prepared {
  title: string;
  kind: 'file' | 'directory';
  layer: ArtifactDescriptor;
  source: BlobSource;
  packed?: PackedDirectory | undefined;
}

function specOf(f: string | ArtifactFileSpec): ArtifactFileSpec {
  return typeof f === 'string' ? parseFileArgument(f) : f;
}

async function statOf(abs: string, given: string): Promise<Stats> {
  try {
    return await stat(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw usageError('NO_SUCH_FILE', `${given}: ${code === 'ENOENT' ? 'no such file or directory' : ((e as Error).message)}`, 'give paths relative to the working directory');
  }
}

/** Runs `fn` over `items` with at most `limit` at once; the first failure stops the rest. */
async function bounded<T, R>(items: readonly T[], limit: number, signal: AbortSignal | undefined, fn: (item: T, signal: AbortSignal) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T, controller.signal);
      } catch (e) {
        failure ??= { error: e };
        controller.abort(e);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) throw failure.error;
  return out;
}

async function prepare(opts: ArtifactPushCommon, emit: (e: ArtifactPushEvent) => void): Promise<Prepared[]> {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const specs = opts.files.map(specOf);
  const titled = specs.map((s) => ({ ...s, title: titleForPath(s.path), abs: path.resolve(cwd, s.path) }));
  const clash = titleConflict(titled.map((t) => t.title));
  if (clash !== undefined) throw usageError('TITLE_CONFLICT', `"${clash.title}" ${clash.problem}: a pull could not write both`, 'every file of an artifact needs its own title, outside the others');
  const infos: ArtifactFileInfo[] = [];
  const stats: Stats[] = [];
  for (const t of titled) {
    const st = await statOf(t.abs, t.path);
    if (!st.isFile() && !st.isDirectory()) throw usageError('UNSUPPORTED_FILE_TYPE', `${t.path} is neither a regular file nor a directory`);
    stats.push(st);
    infos.push({ title: t.title, kind: st.isDirectory() ? 'directory' : 'file', ...(st.isFile() ? { size: st.size } : {}) });
  }
  emit({ type: 'artifact-files', files: infos });
  const prepared: Prepared[] = [];
  try {
    for (const [i, t] of titled.entries()) {
      opts.signal?.throwIfAborted();
      const st = stats[i] as Stats;
      if (st.isDirectory()) {
        const packed = await packDirectory({
          dir: await realpath(t.abs), prefix: t.title, signal: opts.signal, tempRoot: opts.tempDir,
          onBytes: (n) => emit({ type: 'artifact-bytes', title: t.title, phase: 'pack', bytes: n }),
        });
        prepared.push({
          title: t.title, kind: 'directory', packed, source: fileSource(packed.file),
          layer: directoryLayer({ digest: packed.digest, size: packed.size, title: t.title, tarDigest: packed.tarDigest, mediaType: t.mediaType }),
        });
        emit({ type: 'artifact-prepared', title: t.title, digest: packed.digest, size: packed.size });
        continue;
      }
      const size = st.size;
      const d = await digestFile(t.abs, { signal: opts.signal, onBytes: (n) => emit({ type: 'artifact-bytes', title: t.title, phase: 'digest', bytes: n, total: size }) });
      prepared.push({ title: t.title, kind: 'file', source: fileSource(t.abs), layer: fileLayer({ digest: d.digest, size: d.size, title: t.title, mediaType: t.mediaType }) });
      emit({ type: 'artifact-prepared', title: t.title, digest: d.digest, size: d.size });
    }
  } catch (e) {
    await Promise.all(prepared.flatMap((p) => (p.packed === undefined ? [] : [p.packed.dispose()])));
    throw e;
  }
  return prepared;
}

interface PushedManifest {
  summary: ArtifactPushSummary;
  built: ReturnType<typeof buildArtifactManifest>;
  subjectProcessed: boolean;
}

async function pushManifest(opts: ArtifactPushCommon & {
  client: RegistryClient;
  target: Reference;
  subject?: { mediaType: string; digest: string; size: number } | undefined;
  emit: (e: ArtifactPushEvent) => void;
}): Promise<PushedManifest> {
  const { client, target, emit, signal } = opts;
  const repo = { registry: target.registry, repository: target.repository };
  const prepared = await prepare(opts, emit);
  try {
    const artifactType = opts.artifactType ?? ArtifactMediaType.unknownArtifact;
    const built = buildArtifactManifest({ layers: prepared.map((p) => p.layer), artifactType, annotations: opts.annotations, subject: opts.subject, now: opts.now });
    // One upload per digest (two titles may hold the same bytes), the empty config among them.
    const byDigest = new Map<string, Promise<PushBlobResult>>();
    const jobs: Array<{ title: string | undefined; digest: string; size: number; source: BlobSource }> = [
      { title: undefined, digest: EMPTY_DESCRIPTOR.digest, size: EMPTY_DESCRIPTOR.size, source: bufferSource(EMPTY_BLOB) },
      ...prepared.map((p) => ({ title: p.title, digest: p.layer.digest, size: p.layer.size, source: p.source })),
    ];
    const results = await bounded(jobs, Math.max(1, opts.concurrency ?? 5), signal, async (job, sig) => {
      let p = byDigest.get(job.digest);
      const first = p === undefined;
      if (p === undefined) {
        p = client.pushBlob(repo, { digest: job.digest, size: job.size }, job.source, {
          signal: sig, chunkSize: opts.chunkSize, monolithicMax: opts.chunkSize,
          onProgress: job.title === undefined ? undefined : (n) => emit({ type: 'artifact-bytes', title: job.title as string, phase: 'upload', bytes: n, total: job.size }),
        });
        byDigest.set(job.digest, p);
      }
      const r = await p;
      const how = first ? r.how : 'exists';
      if (job.title !== undefined) emit({ type: 'artifact-blob', title: job.title, digest: job.digest, how, resumes: r.resumes, restarts: r.restarts });
      return { ...r, how };
    });
    const ref: Reference = target.tag !== undefined ? { ...repo, tag: target.tag } : { ...repo, digest: built.descriptor.digest };
    const put = await client.putManifest(ref, { mediaType: built.descriptor.mediaType, raw: built.raw }, { signal });
    const reference = formatReference(target.tag !== undefined ? ref : { ...repo, digest: put.digest });
    emit({ type: 'artifact-manifest', reference, digest: put.digest, size: built.raw.length });
    const layers: PushedLayer[] = prepared.map((p, i) => ({
      title: p.title, kind: p.kind, mediaType: p.layer.mediaType, digest: p.layer.digest, size: p.layer.size, how: (results[i + 1] as PushBlobResult).how,
      ...(p.packed !== undefined ? { contentDigest: p.packed.tarDigest } : {}),
    }));
    return {
      built,
      subjectProcessed: put.subjectProcessed,
      summary: {
        reference, digest: put.digest, mediaType: built.descriptor.mediaType, size: built.raw.length, artifactType,
        annotations: built.manifest.annotations ?? {}, layers, uploaded: layers.filter((l) => l.how === 'uploaded').length,
      },
    };
  } finally {
    await Promise.all(prepared.flatMap((p) => (p.packed === undefined ? [] : [p.packed.dispose()])));
  }
}

function parseTarget(ref: Reference | string): Reference {
  return typeof ref === 'string' ? parseReference(ref) : ref;
}

/** Pushes files and directories as an ORAS artifact; returns the manifest's digest and what was sent. */
export async function artifactPush(opts: ArtifactPushOptions): Promise<ArtifactPushSummary> {
  const emit = emitter(opts.onEvent);
  const target = parseTarget(opts.reference);
  if (target.digest !== undefined) {
    throw usageError('BAD_REFERENCE', `${formatReference(target)} names a digest; push to a tag (or to the repository alone)`, 'e.g. registry.example.com/kairos/disk-images:v3.4.2');
  }
  emit({ type: 'resolved', reference: formatReference(target), source: 'reference' });
  const client = lazyClient(opts, emit).get();
  return (await pushManifest({ ...opts, client, target, emit })).summary;
}

/** Pushes an artifact whose subject is another manifest, and records it as a referrer of it. */
export async function artifactAttach(opts: ArtifactAttachOptions): Promise<ArtifactAttachSummary> {
  const emit = emitter(opts.onEvent);
  const subjectRef = parseTarget(opts.subject);
  if (subjectRef.tag === undefined && subjectRef.digest === undefined) {
    throw usageError('BAD_REFERENCE', `${formatReference(subjectRef)} names neither a tag nor a digest`, 'name the manifest to attach to, e.g. …:v1 or …@sha256:…');
  }
  emit({ type: 'resolved', reference: formatReference(subjectRef), source: 'reference' });
  const client = lazyClient(opts, emit).get();
  const head = await client.headManifest(subjectRef, { signal: opts.signal });
  if (head === undefined) {
    throw new KairosImgError('MANIFEST_UNKNOWN', `${formatReference(subjectRef)} does not exist; there is nothing to attach to`, { details: { reference: formatReference(subjectRef) } });
  }
  const subject = { mediaType: head.mediaType, digest: head.digest, size: head.size };
  emit({ type: 'artifact-subject', reference: formatReference(subjectRef), ...subject });
  const repo = { registry: subjectRef.registry, repository: subjectRef.repository };
  const pushed = await pushManifest({ ...opts, client, target: repo, subject, emit });
  let referrers: ArtifactAttachSummary['referrers'];
  if (pushed.subjectProcessed) {
    referrers = { via: 'registry' };
  } else {
    const r = await indexReferrer({ client, ...repo }, subject, referrerDescriptor(pushed.built.descriptor, pushed.built.manifest), { signal: opts.signal });
    referrers = { via: 'tag-schema', tag: r.tag, entries: r.entries };
  }
  emit({ type: 'artifact-referrers', ...referrers });
  return {
    ...pushed.summary,
    subject: { reference: `${repositoryName(repo)}@${subject.digest}`, ...subject },
    referrers,
  };
}
