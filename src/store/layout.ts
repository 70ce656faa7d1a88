/**
 * The content cache: an OCI image layout (image-spec `image-layout.md`) so any OCI tool can
 * read it. Blobs are content-addressed and immutable: each is written to a temporary file in
 * the same directory, verified (digest + size) while it streams and renamed into place; a blob
 * another process finished first wins and ours is dropped. Durability across a crash comes from a
 * marker per blob naming the boot it was written in (see settleUnsynced), not an fsync per blob. index.json is the
 * only mutable file: updated under a lock file and replaced by rename, so readers always see
 * a whole document and two concurrent runs never lose each other's entries.
 */
import { createReadStream, rmSync } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KairosImgError, fsFailure, isErrnoError, isKairosImgError } from '../errors.js';
import { digestMismatch, digestOf, isDigest, parseDigest, samePlatform, verifyingStream, type Descriptor, type ImageIndex, type Platform } from '../oci/index.js';
import { withLock } from './lock.js';
import { digesterFor, followFile, OFF_THREAD_MIN, type FileHasher } from './file-hasher.js';
import { sweepLeftovers, tempName } from '../temp-names.js';
import { recycle } from '../slab-pool.js';

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
   * The stream already verifies itself and errors before ending on a mismatch, so hashing twice
   * is wasted CPU on multi-GB layers. Size is still checked. (Without it, a large blob is hashed
   * on a worker thread while it is written: give the store an unhashed stream for speed.)
   */
  preverified?: boolean | undefined;
  /**
   * Nothing but this write holds the stream's chunks (no tee, no other listener): once a chunk is
   * on disk its memory goes back to the slab pool it came from, if any (src/slab-pool.ts).
   */
  recycleChunks?: boolean | undefined;
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
  await settleUnsynced(root);
  return layoutStore(root);
}

// --- durability without an fsync per blob -------------------------------------------------------
//
// A blob is in the cache once its final name exists, and it must be complete and verified even
// after a crash. fsync before the rename gives that, at the price of waiting for every byte to
// reach the disk (on a 700 MB pull, most of a second). Only a kernel crash or power loss can lose
// written data — and that means a new boot. So a blob may be named before its data is on disk if a
// marker, created before the rename, records it with the boot it was written in: when a store is
// opened after a reboot, every blob whose marker names another boot is hashed again and removed
// unless it matches. Markers of this boot older than SETTLE_AFTER_MS are settled with an fsync
// (by then the kernel has usually written the data back, so it costs little) and removed.
// Without a boot id (not Linux), blobs are fsynced before they are named, as before.

const UNSYNCED_DIR = '.unsynced';
const SETTLE_AFTER_MS = 5 * 60_000;
let bootIdOnce: Promise<string | undefined> | undefined;

/** The kernel's boot id (changes with every boot), or undefined where there is none. */
export function currentBootId(): Promise<string | undefined> {
  bootIdOnce ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((t) => {
    const id = t.trim();
    return /^[0-9a-f-]{16,64}$/.test(id) ? id : undefined;
  }, () => undefined);
  return bootIdOnce;
}

/** `<algorithm>-<hex>.<boot id>`: the marker of an unsynced blob. */
export function unsyncedMarker(digest: string, bootId: string): string {
  const d = parseDigest(digest);
  return `${d.algorithm}-${d.hex}.${bootId}`;
}

function parseMarker(name: string): { digest: string; bootId: string } | undefined {
  const m = /^([a-z0-9]+)-([0-9a-f]+)\.([0-9a-f-]+)$/.exec(name);
  if (m === null) return undefined;
  return { digest: `${m[1] as string}:${m[2] as string}`, bootId: m[3] as string };
}

/** Whether the file on disk is still the blob it was written as (the one verifying stream, to /dev/null). */
async function stillIntact(file: string, digest: string): Promise<boolean> {
  try {
    const { size } = await stat(file);
    await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), verifyingStream({ digest, size }), new Writable({ write: (_c, _e, cb) => cb() }));
    return true;
  } catch {
    return false;
  }
}

/** Verifies blobs written before a reboot and never synced; settles old markers of this boot. */
export async function settleUnsynced(root: string, now: number = Date.now()): Promise<{ verified: number; removed: number; settled: number }> {
  const dir = path.join(root, UNSYNCED_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { verified: 0, removed: 0, settled: 0 };
  }
  const boot = await currentBootId();
  const out = { verified: 0, removed: 0, settled: 0 };
  for (const name of names) {
    const marker = path.join(dir, name);
    const m = parseMarker(name);
    if (m === undefined || !isDigest(m.digest)) {
      await rm(marker, { force: true });
      continue;
    }
    const { algorithm, hex } = parseDigest(m.digest);
    const blob = path.join(root, 'blobs', algorithm, hex);
    if (m.bootId !== boot) {
      // Written in another boot and perhaps lost with its page cache: hashed before any use.
      if (!(await stillIntact(blob, m.digest))) {
        await rm(blob, { force: true });
        out.removed++;
      } else out.verified++;
      await rm(marker, { force: true });
      continue;
    }
    const st = await stat(marker).catch(() => undefined);
    if (st !== undefined && now - st.mtimeMs > SETTLE_AFTER_MS) {
      try {
        const fh = await open(blob, 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      } catch {
        // gone already: nothing to settle
      }
      await rm(marker, { force: true });
      out.settled++;
    }
  }
  return out;
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

/** Chunks are gathered into writes of this size: a socket delivers 64 KiB pieces, and each write is a threadpool round trip. */
const WRITE_BATCH = 256 * 1024;
/** Writes in flight per file: the socket keeps being read while the disk catches up, within this bound. */
const MAX_IN_FLIGHT = 2 * 1024 * 1024;
/** The hashing worker is told about written bytes in steps of this size (each message costs a wake-up). */
const TELL_EVERY = 4 * 1024 * 1024;
/** Written data is pushed to disk this often, in the background, so the final fsync has little left. */
const SYNC_EVERY = 32 * 1024 * 1024;

/**
 * A blob's bytes onto its temporary file: batched positional writev calls, several in flight at
 * once (a write's round trip through the threadpool must not stall the socket), the hashing worker
 * told what is on disk, and a background fdatasync every SYNC_EVERY bytes — the disk writes overlap
 * the download instead of all waiting for the fsync at the end (which still runs: durability is
 * unchanged).
 */
function blobSink(fh: FileHandle, hasher: FileHasher | undefined, durable: boolean, recycleChunks: boolean): Writable {
  interface Write { start: number; n: number; done: boolean; chunks: Buffer[] }
  let parts: Buffer[] = [];
  let have = 0;
  /** Where the next write goes. */
  let pos = 0;
  let inFlight = 0;
  /** Writes not yet complete, in file order: the first one's start is how far the file is whole. */
  const pending: Write[] = [];
  let told = 0;
  let synced = 0;
  let syncing: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  let waiting: ((err?: Error | null) => void) | undefined;
  let drained: (() => void) | undefined;

  const settle = (): void => {
    while (pending.length > 0 && (pending[0] as Write).done) pending.shift();
    const whole = pending.length > 0 ? (pending[0] as Write).start : pos;
    if (hasher !== undefined && whole - told >= TELL_EVERY) {
      told = whole;
      hasher.written(whole);
    }
    if (durable && whole - synced >= SYNC_EVERY) {
      synced = whole;
      syncing = syncing.then(() => fh.datasync()).catch((e: unknown) => { failure ??= e as Error; });
    }
    if (waiting !== undefined && (inFlight < MAX_IN_FLIGHT || failure !== undefined)) {
      const cb = waiting;
      waiting = undefined;
      cb(failure ?? null);
    }
    if (drained !== undefined && pending.length === 0) drained();
  };

  const writeAt = (w: Write, bufs: Buffer[], at: number, left: number): void => {
    fh.writev(bufs, at).then(({ bytesWritten }) => {
      if (bytesWritten < left) {
        // A short write (rare on files): send what is left.
        writeAt(w, [Buffer.concat(bufs).subarray(bytesWritten)], at + bytesWritten, left - bytesWritten);
        return;
      }
      w.done = true;
      // The write was the chunks' last use: a blob read into the slab pool gets its memory back.
      if (recycleChunks) for (const b of w.chunks) recycle(b);
      inFlight -= w.n;
      settle();
    }, (e: unknown) => {
      failure ??= e as Error;
      w.done = true;
      inFlight -= w.n;
      settle();
    });
  };

  const issue = (): void => {
    if (have === 0) return;
    const bufs = parts;
    const w: Write = { start: pos, n: have, done: false, chunks: bufs };
    parts = [];
    have = 0;
    pending.push(w);
    inFlight += w.n;
    pos += w.n;
    writeAt(w, bufs, w.start, w.n);
  };

  return new Writable({
    highWaterMark: WRITE_BATCH,
    write(chunk: Buffer, _enc, cb) {
      if (failure !== undefined) return cb(failure);
      parts.push(chunk);
      have += chunk.length;
      if (have >= WRITE_BATCH) issue();
      if (inFlight < MAX_IN_FLIGHT) cb();
      else waiting = cb;
    },
    final(cb) {
      issue();
      const done = (): void => {
        drained = undefined;
        syncing.then(() => cb(failure ?? null), cb);
      };
      if (pending.length === 0) done();
      else drained = done;
    },
    destroy(err, cb) {
      // Writes still in flight finish on their own; the caller closes and removes the file after.
      cb(err);
    },
  });
}

/**
 * Writes `data` to a new file `file` (it must not exist), checked against `desc` (size, and the
 * digest unless `preverified`: on the hashing worker for large streams) and fsynced: when this
 * resolves the file is complete, verified and durable, ready to be renamed into place. On any
 * failure the file is removed. The cache's blobs and `artifact pull`'s files are written by it.
 */
export async function writeVerifiedFile(file: string, desc: Pick<Descriptor, 'digest' | 'size'>, data: Readable | Buffer, opts: WriteBlobOptions & {
  mode?: number | undefined;
  /** false: no fsync (the caller records the file as unsynced instead). Default true. */
  fsync?: boolean | undefined;
} = {}): Promise<void> {
  const durable = opts.fsync !== false;
  try {
    const source = Buffer.isBuffer(data) ? [data] : data;
    const fh = await open(file, 'wx', opts.mode ?? 0o644);
    // Large streamed blobs are hashed on the worker thread as they land on disk; the stream
    // itself then only counts (size checked as before), and small ones are hashed in it.
    const hasher = !opts.preverified && !Buffer.isBuffer(data) && desc.size >= OFF_THREAD_MIN
      ? followFile(file, parseDigest(desc.digest).algorithm) : undefined;
    try {
      await pipeline(source, verifyingStream(desc, { hash: !opts.preverified && hasher === undefined }), blobSink(fh, hasher, durable, opts.recycleChunks === true), opts.signal ? { signal: opts.signal } : {});
      if (hasher !== undefined) {
        const got = await hasher.end(desc.size);
        if (got.digest !== desc.digest) throw digestMismatch(`blob ${desc.digest}`, desc.digest, got.digest);
      }
      // Durable before it is named: complete after a crash.
      if (durable) await fh.sync();
    } catch (err) {
      hasher?.drop();
      throw err;
    } finally {
      await fh.close();
    }
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
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
      // The stream may fail (an interrupt ends its download) before the awaits below let us read it:
      // its error must not be an uncaught 'error' event. The pipeline that reads it still sees it.
      if (!Buffer.isBuffer(data)) data.on('error', () => undefined);
      const final = blobPath(desc.digest);
      await mkdir(path.dirname(final), { recursive: true });
      const tmp = path.join(path.dirname(final), tempName(TEMP_PREFIX, parseDigest(desc.digest).hex.slice(0, 16)));
      const boot = await currentBootId();
      try {
        await writeVerifiedFile(tmp, desc, data, { ...opts, fsync: boot === undefined });
      } catch (err) {
        if (isErrnoError(err)) throw fsFailure(err, `writing blob ${desc.digest} into the cache`, root);
        throw err;
      }
      try {
        if (await exists(final)) {
          await rm(tmp, { force: true });
          return { path: final, written: false };
        }
        if (boot !== undefined) {
          // Before the name exists: a blob named without its marker would escape the check after a reboot.
          await mkdir(path.join(root, UNSYNCED_DIR), { recursive: true });
          await writeFile(path.join(root, UNSYNCED_DIR, unsyncedMarker(desc.digest, boot)), '');
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
        digester: opts.trusted !== true ? digesterFor(desc) : undefined,
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
