/**
 * The content cache: an OCI image layout (image-spec `image-layout.md`) so any OCI tool can
 * read it. Blobs are content-addressed and immutable: each is written to a temporary file in
 * the same directory, verified (digest + size) while it streams, fsynced and renamed into
 * place; a blob another process finished first wins and ours is dropped. index.json is the
 * only mutable file: updated under a lock file and replaced by rename, so readers always see
 * a whole document and two concurrent runs never lose each other's entries.
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KairosImgError, fsFailure, isErrnoError, isKairosImgError } from '../errors.js';
import { digestOf, parseDigest, samePlatform, verifyingStream, type Descriptor, type ImageIndex, type Platform } from '../oci/index.js';
import { withLock } from './lock.js';
import { sweepLeftovers, tempName } from '../temp-names.js';

/** Temporary files of the cache (blobs being written, index.json being replaced). */
export const TEMP_PREFIX = 'kimg-tmp';

export const REF_NAME = 'org.opencontainers.image.ref.name';
export const OCI_LAYOUT = { imageLayoutVersion: '1.0.0' } as const;
const JSON_CAP = 16 * 1024 * 1024;

/** `$KAIROS_IMG_CACHE`, else `$XDG_CACHE_HOME/kairos-img`, else `~/.cache/kairos-img`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KAIROS_IMG_CACHE) return path.resolve(env.KAIROS_IMG_CACHE);
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), 'kairos-img');
  return path.join(env.HOME || homedir(), '.cache', 'kairos-img');
}

export interface WriteBlobOptions {
  signal?: AbortSignal | undefined;
  /**
   * The stream already verifies itself and errors before ending on a mismatch (the registry
   * client's blobs do), so hashing twice is wasted CPU on multi-GB layers. Size is still checked.
   */
  preverified?: boolean | undefined;
}

export interface Store {
  readonly root: string;
  has(digest: string): Promise<boolean>;
  blobPath(digest: string): string;
  /** Stores a blob; `written` is false when it was already there (ours was discarded). */
  writeBlob(descriptor: Pick<Descriptor, 'digest' | 'size'>, data: Readable | Buffer, opts?: WriteBlobOptions): Promise<{ path: string; written: boolean }>;
  /**
   * A cached blob, verified against `descriptor` while it streams (unless `trusted`: this process
   * wrote and verified it moments ago). A mismatch removes the blob and fails the stream with
   * CACHE_CORRUPT before its end, so nothing derived from it is kept.
   */
  openBlob(descriptor: Pick<Descriptor, 'digest' | 'size'>, opts?: { trusted?: boolean | undefined }): Readable;
  /** Hashes a cached blob: `corrupt` ones are removed. */
  verifyBlob(descriptor: Pick<Descriptor, 'digest' | 'size'>, signal?: AbortSignal): Promise<'ok' | 'absent' | 'corrupt'>;
  readBlob(digest: string, cap?: number): Promise<Buffer>;
  readJson<T = unknown>(digest: string): Promise<T>;
  /** Stores manifest bytes and points `refName` (optionally per platform) at them in index.json. */
  putManifest(refName: string, descriptor: Descriptor, raw: Buffer, opts?: { signal?: AbortSignal | undefined }): Promise<void>;
  resolveTag(refName: string, platform?: Platform): Promise<Descriptor | undefined>;
  readIndex(): Promise<ImageIndex>;
}

/** index.json with `entry` replacing any entry of the same ref name (and platform); pure. */
export function withIndexEntry(index: ImageIndex, entry: Descriptor): ImageIndex {
  const name = entry.annotations?.[REF_NAME];
  const manifests = index.manifests.filter((d) => !(d.annotations?.[REF_NAME] === name && samePlatform(d.platform, entry.platform)));
  return { ...index, schemaVersion: 2, manifests: [...manifests, entry] };
}

export async function openStore(opts: { root?: string | undefined } = {}): Promise<Store> {
  const root = path.resolve(opts.root ?? defaultCacheDir());
  await initLayout(root);
  // What killed runs left (half-written blobs of hundreds of MB) goes; live runs' files stay.
  await Promise.all([sweepLeftovers(root, [TEMP_PREFIX]), sweepLeftovers(path.join(root, 'blobs', 'sha256'), [TEMP_PREFIX])]);
  return layoutStore(root);
}

/** Creates oci-layout, index.json and blobs/sha256 when missing (idempotent, race-safe). */
export async function initLayout(root: string): Promise<void> {
  await mkdir(path.join(root, 'blobs', 'sha256'), { recursive: true });
  await writeIfMissing(path.join(root, 'oci-layout'), `${JSON.stringify(OCI_LAYOUT)}\n`);
  await writeIfMissing(path.join(root, 'index.json'), `${JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] })}\n`);
}

async function writeIfMissing(file: string, text: string): Promise<void> {
  try {
    await access(file);
    return;
  } catch {
    // fall through
  }
  await replaceFile(file, text);
}

/** Atomic replace: temp file in the same directory, fsync, rename. */
export async function replaceFile(file: string, text: string | Buffer): Promise<void> {
  const tmp = path.join(path.dirname(file), tempName(TEMP_PREFIX, path.basename(file)));
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function readIndexFile(root: string): Promise<ImageIndex> {
  const text = await readFile(path.join(root, 'index.json'), 'utf8');
  try {
    const doc = JSON.parse(text) as ImageIndex;
    if (!Array.isArray(doc.manifests)) throw new Error('no manifests');
    return doc;
  } catch {
    throw new KairosImgError('CACHE_CORRUPT', `${path.join(root, 'index.json')} is not a valid OCI index`, {
      hint: `delete ${root} (it is only a cache) or fix the file`,
    });
  }
}

/** Read-modify-write of index.json under the layout's lock. */
export async function updateIndex(root: string, change: (index: ImageIndex) => ImageIndex, signal?: AbortSignal): Promise<void> {
  await withLock(path.join(root, 'index.json.lock'), async () => {
    const next = change(await readIndexFile(root));
    await replaceFile(path.join(root, 'index.json'), `${JSON.stringify(next, null, 2)}\n`);
  }, { signal });
}

function layoutStore(root: string): Store {
  const blobPath = (digest: string): string => {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(root, 'blobs', algorithm, hex);
  };
  const exists = async (p: string): Promise<boolean> => {
    try {
      await access(p);
      return true;
    } catch {
      return false;
    }
  };

  const store: Store = {
    root,
    blobPath,
    has: (digest) => exists(blobPath(digest)),

    async writeBlob(desc, data, opts = {}) {
      const final = blobPath(desc.digest);
      await mkdir(path.dirname(final), { recursive: true });
      const tmp = path.join(path.dirname(final), tempName(TEMP_PREFIX, parseDigest(desc.digest).hex.slice(0, 16)));
      try {
        const source = Buffer.isBuffer(data) ? [data] : data;
        const sink = createWriteStream(tmp, { flags: 'wx', highWaterMark: 1024 * 1024 });
        await pipeline(source, verifyingStream(desc, { hash: !opts.preverified }), sink, opts.signal ? { signal: opts.signal } : {});
        const fh = await open(tmp, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        if (await exists(final)) {
          await rm(tmp, { force: true });
          return { path: final, written: false };
        }
        await rename(tmp, final);
        return { path: final, written: true };
      } catch (err) {
        await rm(tmp, { force: true });
        if (isErrnoError(err)) throw fsFailure(err, `writing blob ${desc.digest} into the cache`, root);
        throw err;
      }
    },

    openBlob(desc, opts = {}) {
      const file = blobPath(desc.digest);
      // 1 MiB reads: a layer feeds inflate in big steps (see unpack/decompress.ts), and fewer reads.
      const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
      const check = verifyingStream(desc, {
        what: `cached blob ${desc.digest}`,
        hash: opts.trusted !== true,
        onMismatch: (err) => {
          // Removed before the consumer sees the error: a retry fetches it anew.
          rmSync(file, { force: true });
          return new KairosImgError('CACHE_CORRUPT', `cached blob ${desc.digest} was corrupted on disk (${err.message}); it was removed`, {
            hint: 'run the command again to fetch it anew', details: { digest: desc.digest }, cause: err,
          });
        },
      });
      source.once('error', (e) => check.destroy(e));
      check.once('close', () => source.destroy());
      return source.pipe(check);
    },

    async verifyBlob(desc, signal) {
      if (!(await exists(blobPath(desc.digest)))) return 'absent';
      try {
        await pipeline(store.openBlob(desc), new Writable({ write: (_c, _e, cb) => cb() }), signal ? { signal } : {});
        return 'ok';
      } catch (e) {
        if (isKairosImgError(e) && e.code === 'CACHE_CORRUPT') return 'corrupt';
        throw e;
      }
    },

    async readBlob(digest, cap = JSON_CAP) {
      const p = blobPath(digest);
      const st = await stat(p);
      if (st.size > cap) throw new KairosImgError('BLOB_TOO_LARGE', `cached blob ${digest} is ${st.size} bytes, over the ${cap}-byte limit`);
      const buf = await readFile(p);
      const actual = digestOf(buf, parseDigest(digest).algorithm);
      if (actual !== digest) {
        await rm(p, { force: true });
        throw new KairosImgError('CACHE_CORRUPT', `cached blob ${digest} was corrupted (now ${actual}); it was removed`, { hint: 'run the command again to fetch it anew' });
      }
      return buf;
    },

    async readJson<T>(digest: string): Promise<T> {
      const buf = await store.readBlob(digest);
      try {
        return JSON.parse(buf.toString('utf8')) as T;
      } catch {
        throw new KairosImgError('CACHE_CORRUPT', `cached blob ${digest} is not JSON`);
      }
    },

    async putManifest(refName, descriptor, raw, opts = {}) {
      await store.writeBlob(descriptor, raw, opts);
      const entry: Descriptor = {
        mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size,
        ...(descriptor.platform ? { platform: descriptor.platform } : {}),
        annotations: { ...descriptor.annotations, [REF_NAME]: refName },
      };
      await updateIndex(root, (idx) => withIndexEntry(idx, entry), opts.signal);
    },

    async resolveTag(refName, platform) {
      const idx = await readIndexFile(root);
      const named = idx.manifests.filter((d) => d.annotations?.[REF_NAME] === refName);
      if (platform === undefined) return named[named.length - 1];
      return named.find((d) => samePlatform(d.platform, platform)) ??
        named.find((d) => d.platform === undefined || (d.platform.os === platform.os && d.platform.architecture === platform.architecture));
    },

    readIndex: () => readIndexFile(root),
  };
  return store;
}
