/**
 * `artifact pull`: an ORAS artifact's layers into a directory, as `oras pull` lays them out —
 * each titled layer at `<out>/<title>`, a packed directory (`io.deis.oras.content.unpack`)
 * unpacked there — with what oras-go gets wrong done right: every title is checked before
 * anything is written (absolute, `..`, or through a symlink already in the output: refused, and
 * there is no flag to allow it), a packed tree goes through the unpack core (every path resolved
 * inside its root, hard-link targets resolved against that root, never the working directory —
 * oras-go ≤ 2.6.1, CVE-2026-50163), its uncompressed tar is checked against
 * `io.deis.oras.content.digest`, every blob against its digest while it streams. Everything is
 * written under temporary names and renamed into place only when all layers are complete, so a
 * failure leaves the output directory as it was.
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline as pipe } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { KairosImgError, usageError } from '../errors.js';
import { parseManifestDocument, type Descriptor } from '../oci/index.js';
import { ArtifactAnnotation, isEmptyDescriptor, isPackedDirectory, layerTitle, titleConflict, titlePath } from '../oci/artifact.js';
import { digestCheckStream } from '../oci/artifact-stream.js';
import { formatReference, parseReference, type Reference } from '../reference/reference.js';
import { createRootWriter, unpackTarStreams } from '../unpack/index.js';
import { defaultCacheDir, writeVerifiedFile } from '../store/index.js';
import { openSource, parseTransport, registrySource, type ImageSource } from '../store/sources/index.js';
import type { RegistryClient } from '../registry/index.js';
import { lazyClient, signatureRequirementFor, type OperationOptions } from './common.js';
import type { SignatureReport, SignatureRequirement } from './signature.js';
import { signatureGate } from './signature-gate.js';
import { emitter } from './events.js';
import type { ArtifactPullEvent } from './artifact-events.js';

export interface ArtifactPullOptions extends Pick<OperationOptions<ArtifactPullEvent>, 'plainHttp' | 'env' | 'client' | 'signal' | 'onEvent'> {
  /** The artifact: a reference, or an image source (`oci:DIR:NAME`, `oci-archive:FILE:NAME`, …) it was mirrored into. */
  reference: Reference | string;
  /** Where the files go (created when missing). */
  outDir: string;
  /** Replace a non-empty directory already at a packed directory's title (files are always replaced). */
  force?: boolean | undefined;
  /** Layers fetched at once (default 3, as oras). */
  concurrency?: number | undefined;
  /** Verify the artifact's signature before any layer is downloaded or written (exit 3 when none satisfies it). */
  signature?: SignatureRequirement | undefined;
}

export interface PulledFile {
  title: string;
  /** Absolute path written. */
  path: string;
  kind: 'file' | 'directory';
  mediaType: string;
  digest: string;
  size: number;
  /** Packed directories: entries unpacked. */
  entries?: number | undefined;
}

export interface ArtifactPullSummary {
  reference: string;
  digest: string;
  mediaType: string;
  artifactType?: string | undefined;
  outDir: string;
  files: PulledFile[];
  /** Layers without a title (oras skips them too). */
  skipped: Array<{ digest: string; mediaType: string; reason: string }>;
  /** The signature check, when one was required. */
  signature?: SignatureReport | undefined;
}

interface Item {
  title: string;
  parts: string[];
  layer: Descriptor;
  kind: 'file' | 'directory';
  final: string;
  /** The temporary name it is written to, next to `final`. */
  temp: string;
  /** Packed directories: the tree inside `temp` that becomes `final`. */
  payload?: string | undefined;
  entries?: number | undefined;
}

const token = (): string => randomBytes(6).toString('hex');

function conflict(title: string, why: string): KairosImgError {
  return new KairosImgError('ARTIFACT_TITLE_CONFLICT', `layer title "${title}" ${why}`, { details: { title } });
}

async function lstatOrUndefined(p: string): Promise<Awaited<ReturnType<typeof fsp.lstat>> | undefined> {
  try {
    return await fsp.lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The titled layers (and a titled config), checked: safe titles, no duplicates, no file under another file. */
function plan(layers: Descriptor[], config: Descriptor): { items: Array<Omit<Item, 'final' | 'temp'>>; skipped: ArtifactPullSummary['skipped'] } {
  const items: Array<Omit<Item, 'final' | 'temp'>> = [];
  const skipped: ArtifactPullSummary['skipped'] = [];
  for (const layer of [...(layerTitle(config) !== undefined ? [config] : []), ...layers]) {
    const title = layerTitle(layer);
    if (title === undefined) {
      if (!isEmptyDescriptor(layer)) skipped.push({ digest: layer.digest, mediaType: layer.mediaType, reason: 'no org.opencontainers.image.title' });
      continue;
    }
    const parts = titlePath(title);
    items.push({ title, parts, layer, kind: isPackedDirectory(layer) ? 'directory' : 'file' });
  }
  const clash = titleConflict(items.map((it) => it.parts.join('/')));
  if (clash !== undefined) throw conflict(clash.title, clash.problem);
  return { items, skipped };
}

/**
 * The tree of a packed directory as unpacked into `root`: the title's chain of directories and
 * nothing beside it (oras refuses entries outside the title too). Returns the payload directory.
 */
async function payloadOf(root: string, item: Pick<Item, 'title' | 'parts'>): Promise<string> {
  let dir = root;
  for (const part of item.parts) {
    const names = await fsp.readdir(dir);
    const others = names.filter((n) => n !== part);
    if (others.length > 0) {
      throw new KairosImgError('ARTIFACT_LAYER_CORRUPT', `the packed directory "${item.title}" holds entries outside it (e.g. "${path.relative(root, path.join(dir, others[0] as string))}")`, {
        hint: 'the artifact was not packed by oras (or was tampered with); nothing was written', details: { title: item.title },
      });
    }
    dir = path.join(dir, part);
    const st = await lstatOrUndefined(dir);
    if (st === undefined || !st.isDirectory()) {
      throw new KairosImgError('ARTIFACT_LAYER_CORRUPT', `the packed directory "${item.title}" holds no directory named "${item.title}"`, {
        hint: 'the artifact was not packed by oras (or was tampered with); nothing was written', details: { title: item.title },
      });
    }
  }
  return dir;
}

export async function artifactPull(opts: ArtifactPullOptions): Promise<ArtifactPullSummary> {
  const emit = emitter(opts.onEvent);
  const transport = typeof opts.reference === 'string' ? parseTransport(opts.reference) : undefined;
  if (transport !== undefined && transport.kind !== 'docker') {
    // An artifact mirrored into a layout or archive (sneakernet) is read from there.
    const source = await openSource({ transport, spoolDir: defaultCacheDir(opts.env ?? process.env), signal: opts.signal });
    emit({ type: 'resolved', reference: source.label, source: 'transport' });
    try {
      return await pullFrom(opts, source, emit);
    } finally {
      await source.close();
    }
  }
  const text = transport?.kind === 'docker' ? transport.reference : opts.reference;
  const ref = typeof text === 'string' ? parseReference(text) : text;
  if (ref.tag === undefined && ref.digest === undefined) {
    throw usageError('BAD_REFERENCE', `${formatReference(ref)} names neither a tag nor a digest`, 'add :<tag> or @sha256:<digest>');
  }
  emit({ type: 'resolved', reference: formatReference(ref), source: 'reference' });
  const client = lazyClient(opts, emit);
  return pullFrom(opts, registrySource({ client: client.get, reference: ref }), emit, { client: client.get, reference: ref });
}

async function pullFrom(opts: ArtifactPullOptions, source: ImageSource, emit: (e: ArtifactPullEvent) => void, registry?: { client: () => RegistryClient; reference: Reference }): Promise<ArtifactPullSummary> {
  const { signal } = opts;
  const top = await source.root({ signal });
  const doc = parseManifestDocument(top.raw, top.descriptor.mediaType, source.label);
  const m = { raw: top.raw, digest: top.descriptor.digest, mediaType: doc.mediaType };
  if (doc.kind !== 'manifest') {
    throw new KairosImgError('ARTIFACT_IS_INDEX', `${source.label} is an image index, not an artifact manifest`, {
      hint: 'name one manifest of it by digest (kairos-img artifact pull <repository>@sha256:…)', details: { mediaType: doc.mediaType },
    });
  }
  const artifactType = (JSON.parse(m.raw.toString('utf8')) as { artifactType?: unknown }).artifactType;
  const { items: planned, skipped } = plan(doc.manifest.layers, doc.manifest.config);
  emit({ type: 'manifest', digest: m.digest, layers: doc.manifest.layers.length, size: doc.manifest.layers.reduce((a, l) => a + l.size, 0), fromCache: false });
  // Signatures name the registry's manifest digest: a layout or archive copy has none to check.
  const requirement = signatureRequirementFor({ source }, opts.signature);
  const signature = requirement === undefined || registry === undefined ? undefined
    : await signatureGate({ requirement, client: registry.client(), reference: registry.reference, manifest: top, signal, emit });
  for (const s of skipped) emit({ type: 'artifact-skipped', ...s });
  emit({ type: 'artifact-files', files: planned.map((p) => ({ title: p.title, kind: p.kind, size: p.layer.size })) });

  const outDir = path.resolve(opts.outDir);
  const madeOut = await fsp.mkdir(outDir, { recursive: true });
  const outStat = await fsp.stat(outDir);
  if (!outStat.isDirectory()) throw usageError('OUT_NOT_A_DIRECTORY', `--out ${outDir} exists and is not a directory`);
  const writer = createRootWriter(outDir);
  const createdDirs: string[] = [];
  const items: Item[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(items.map((it) => fsp.rm(it.temp, { recursive: true, force: true })));
    for (const d of [...createdDirs].reverse()) await fsp.rmdir(path.join(outDir, d)).catch(() => undefined);
    if (madeOut !== undefined) {
      for (let d = outDir; d.length >= madeOut.length; d = path.dirname(d)) {
        try {
          await fsp.rmdir(d);
        } catch {
          break;
        }
      }
    }
  };

  try {
    // Every target is checked before a byte is fetched.
    for (const p of planned) {
      const rel = p.parts.join('/');
      const parent = p.parts.slice(0, -1).join('/');
      // The one resolver of paths in a root: a parent that resolves elsewhere passes through a symlink.
      const resolved = writer.resolveNoFollow(rel);
      if (resolved !== rel) {
        throw new KairosImgError('UNSAFE_TITLE', `layer title "${p.title}" passes through a symlink in ${outDir}`, {
          hint: 'kairos-img never writes through a symlink in the output directory; remove it or pull into another directory', details: { title: p.title },
        });
      }
      const final = path.join(outDir, rel);
      const existing = await lstatOrUndefined(final);
      if (existing?.isDirectory() === true) {
        if (p.kind === 'file') throw conflict(p.title, `is a file in the artifact but a directory in ${outDir}`);
        if ((await fsp.readdir(final)).length > 0 && opts.force !== true) {
          throw new KairosImgError('OUT_NOT_EMPTY', `${final} exists and is not empty`, { hint: 'pass --force to replace it, or pull into another directory' });
        }
      } else if (existing !== undefined && p.kind === 'directory' && opts.force !== true) {
        throw new KairosImgError('OUT_NOT_EMPTY', `${final} exists and is not a directory`, { hint: 'pass --force to replace it, or pull into another directory' });
      }
      const made = writer.ensureDir(parent);
      createdDirs.push(...made.created);
      const base = p.parts[p.parts.length - 1] as string;
      items.push({ ...p, final, temp: path.join(path.dirname(final), `.${base}.kairos-img-${p.kind === 'file' ? 'part' : 'dir'}-${token()}`) });
    }

    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const queue = [...items];
    const failures: unknown[] = [];
    const worker = async (): Promise<void> => {
      for (let it = queue.shift(); it !== undefined && failures.length === 0; it = queue.shift()) {
        const item = it;
        try {
          const onProgress = (n: number): void => emit({ type: 'artifact-bytes', title: item.title, phase: 'download', bytes: n, total: item.layer.size });
          const blob = (sig: AbortSignal) => source.blob(item.layer, { signal: sig, onProgress });
          if (item.kind === 'file') {
            // The cache's writer: verified (hashed on a worker as it lands), under its temporary name.
            // Not fsynced: an output file is as durable as what `curl -o` or `tar -x` writes (a
            // process that fails leaves nothing; only a power loss could, as for them).
            await writeVerifiedFile(item.temp, item.layer, source.blob(item.layer, { signal: controller.signal, onProgress, verify: false, pooled: true }), { signal: controller.signal, fsync: false, recycleChunks: true });
          } else {
            const contentDigest = item.layer.annotations?.[ArtifactAnnotation.contentDigest];
            const report = await unpackTarStreams({
              dir: item.temp,
              signal: controller.signal,
              // pipeline, not pipe: a blob that fails its digest must fail the tar reader too.
              streams: [async (sig) => contentDigest === undefined
                ? pipe(blob(sig), createGunzip(), () => undefined)
                : pipe(blob(sig), createGunzip(), digestCheckStream(contentDigest, `the tar of packed directory "${item.title}" (${ArtifactAnnotation.contentDigest})`), () => undefined)],
            });
            item.payload = await payloadOf(item.temp, item);
            item.entries = report.entries;
          }
          emit({ type: 'artifact-file-done', title: item.title, digest: item.layer.digest, size: item.layer.size, entries: item.entries });
        } catch (e) {
          if (failures.length === 0) failures.push(e);
          controller.abort(e);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 3, items.length)) }, worker));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (failures.length > 0) throw failures[0];
    signal?.throwIfAborted();

    // All complete and verified: into place.
    for (const it of items) {
      if (it.kind === 'file') {
        await fsp.rename(it.temp, it.final);
        continue;
      }
      const existing = await lstatOrUndefined(it.final);
      if (existing === undefined || (existing.isDirectory() && (await fsp.readdir(it.final)).length === 0)) {
        await fsp.rename(it.payload as string, it.final);
      } else {
        const old = path.join(path.dirname(it.final), `.${path.basename(it.final)}.kairos-img-old-${token()}`);
        await fsp.rename(it.final, old);
        try {
          await fsp.rename(it.payload as string, it.final);
        } catch (e) {
          await fsp.rename(old, it.final).catch(() => undefined);
          throw e;
        }
        await fsp.rm(old, { recursive: true, force: true });
      }
      await fsp.rm(it.temp, { recursive: true, force: true });
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  emit({ type: 'artifact-committed', files: items.length, outDir });
  return {
    reference: source.label,
    digest: m.digest,
    mediaType: m.mediaType,
    ...(typeof artifactType === 'string' ? { artifactType } : {}),
    ...(signature === undefined ? {} : { signature }),
    outDir,
    files: items.map((it) => ({
      title: it.title, path: it.final, kind: it.kind, mediaType: it.layer.mediaType, digest: it.layer.digest, size: it.layer.size,
      ...(it.entries !== undefined ? { entries: it.entries } : {}),
    })),
    skipped,
  };
}
