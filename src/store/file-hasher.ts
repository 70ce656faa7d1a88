/**
 * Hashing off the main thread, on one worker thread, two ways.
 * - Following a file being written (`followFile`): on a pull the main thread already carries the
 *   sockets, the batching of writes and the bookkeeping; hashing 700 MB on it as well (SHA-256 at
 *   ~2 GB/s) keeps a second core idle. The worker is told "N bytes are on disk" after each write,
 *   reads the new bytes back from the page cache and hashes them, so the digest is known moments
 *   after the last write, and the blob is renamed into the cache only when it matches.
 * - Fed the chunks a stream passes on (`feedDigester`, for the one verifying stream): a cache
 *   read, an archive member or a layout blob is hashed from exactly the bytes its consumer gets —
 *   not by reading the file a second time, which could differ — copied into a 4 MiB ring of shared
 *   memory that the worker hashes behind the reader (an unpack from a 2 GB docker-archive spent
 *   ~0.75 s of its main thread in SHA-256).
 *
 * The worker is ~60 lines evaluated from a string (no module to resolve, so it runs the same from
 * sources under the test runner as from dist/), started on first use, shared by all blobs, and
 * unreferenced while idle so it never keeps the process alive.
 */
import { Worker } from 'node:worker_threads';
import { parseDigest, type Digester } from '../oci/index.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const jobs = new Map();
const buf = Buffer.allocUnsafe(1024 * 1024);
function advance(job) {
  while (job.hashed < job.target) {
    const n = fs.readSync(job.fd, buf, 0, Math.min(buf.length, job.target - job.hashed), job.hashed);
    if (n === 0) throw new Error('the file is shorter than what was written to it');
    job.hash.update(buf.subarray(0, n));
    job.hashed += n;
  }
}
function finish(id, job, error) {
  jobs.delete(id);
  if (job.fd !== undefined) { try { fs.closeSync(job.fd); } catch {} }
  parentPort.postMessage(error ? { id, error: String(error && error.message || error) } : { id, digest: job.algorithm + ':' + job.hash.digest('hex'), size: job.hashed });
}
parentPort.on('message', (m) => {
  let job = jobs.get(m.id);
  try {
    if (m.op === 'open') {
      job = { fd: fs.openSync(m.path, 'r'), hash: createHash(m.algorithm), algorithm: m.algorithm, hashed: 0, target: 0 };
      jobs.set(m.id, job);
      return;
    }
    if (m.op === 'feed') {
      job = { ring: new Uint8Array(m.ring), hash: createHash(m.algorithm), algorithm: m.algorithm, hashed: 0 };
      jobs.set(m.id, job);
      return;
    }
    if (job === undefined) return;
    if (m.op === 'drop') { jobs.delete(m.id); if (job.fd !== undefined) { try { fs.closeSync(job.fd); } catch {} } return; }
    if (m.op === 'data') {
      job.hash.update(job.ring.subarray(m.at, m.at + m.length));
      job.hashed += m.length;
      parentPort.postMessage({ id: m.id, ack: job.hashed });
      return;
    }
    if (job.ring !== undefined) { if (m.op === 'end') finish(m.id, job); return; }
    job.target = Math.max(job.target, m.upTo);
    advance(job);
    if (m.op === 'end') finish(m.id, job);
  } catch (e) {
    if (job !== undefined) finish(m.id, job, e);
  }
});
`;

interface Pending {
  resolve(r: { digest: string; size: number }): void;
  reject(e: Error): void;
  /** A fed job: the worker has hashed this many bytes (cumulative). */
  ack?(hashed: number): void;
}

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();
/**
 * Jobs the worker owes something (a followed file until its end; a fed job while bytes or its
 * digest are outstanding). The worker keeps the process alive only while there is one, so a
 * stream a consumer abandons half-read never holds the process open.
 */
const owing = new Set<number>();

function owe(id: number, yes: boolean): void {
  if (yes) owing.add(id);
  else owing.delete(id);
  if (owing.size > 0) worker?.ref();
  else worker?.unref();
}

function theWorker(): Worker {
  if (worker !== undefined) return worker;
  // It holds a 1 MiB buffer and a few hashes: a small heap keeps its share of the RSS small.
  // execArgv: [] — the source is CommonJS whatever the parent was started with (`--input-type=module`).
  const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16, codeRangeSizeMb: 4, stackSizeMb: 1 } });
  w.unref();
  w.on('message', (m: { id: number; digest?: string; size?: number; error?: string; ack?: number }) => {
    const p = pending.get(m.id);
    if (p === undefined) return;
    if (m.ack !== undefined) {
      p.ack?.(m.ack);
      return;
    }
    pending.delete(m.id);
    owe(m.id, false);
    if (m.error !== undefined) p.reject(new Error(`hashing the blob failed: ${m.error}`));
    else p.resolve({ digest: m.digest as string, size: m.size as number });
  });
  const fail = (e: unknown): void => {
    worker = undefined;
    for (const p of pending.values()) p.reject(e instanceof Error ? e : new Error(String(e)));
    pending.clear();
    owing.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`the hashing worker exited (${code})`)));
  worker = w;
  return w;
}

export interface FileHasher {
  /** `bytes` of the file are written (cumulative). */
  written(bytes: number): void;
  /** All `bytes` are written: resolves with the digest of the file's first `bytes` bytes. */
  end(bytes: number): Promise<{ digest: string; size: number }>;
  /** Stops following the file (the write failed). */
  drop(): void;
}

/** Follows `path` (being written) and hashes it with `algorithm` on the worker thread. */
export function followFile(path: string, algorithm: string): FileHasher {
  const w = theWorker();
  const id = nextId++;
  let result: Promise<{ digest: string; size: number }> | undefined;
  const settled = new Promise<{ digest: string; size: number }>((resolve, reject) => pending.set(id, { resolve, reject }));
  settled.catch(() => undefined);
  owe(id, true);
  w.postMessage({ op: 'open', id, path, algorithm });
  return {
    written: (bytes) => w.postMessage({ op: 'upto', id, upTo: bytes }),
    end(bytes) {
      result ??= (w.postMessage({ op: 'end', id, upTo: bytes }), settled);
      return result;
    },
    drop() {
      if (!pending.has(id)) return;
      pending.delete(id);
      owe(id, false);
      w.postMessage({ op: 'drop', id });
    },
  };
}

/** Blobs from this size on are hashed off the main thread (below it a thread hop costs more than it saves). */
export const OFF_THREAD_MIN = 4 * 1024 * 1024;

/** A worker-fed digester for `desc` when it is big enough to be worth one, else undefined (hash inline). */
export function digesterFor(desc: { digest: string; size: number }): Digester | undefined {
  return desc.size >= OFF_THREAD_MIN ? feedDigester(parseDigest(desc.digest).algorithm) : undefined;
}

/** Shared memory per fed job, and how much is handed to the worker per message. */
const RING = 4 * 1024 * 1024;
const POST_EVERY = 256 * 1024;

/**
 * A `Digester` for the verifying stream: each chunk is copied into the job's ring (a memcpy, where
 * SHA-256 would be ~1 ms per 2 MB) and hashed by the worker; a full ring makes `update` wait.
 */
export function feedDigester(algorithm: string): Digester {
  const id = nextId++;
  let w: Worker | undefined;
  let ring: Buffer | undefined;
  /** Bytes copied in, handed to the worker, hashed by it (all cumulative). */
  let copied = 0;
  let posted = 0;
  let hashed = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let result: Promise<string> | undefined;
  let settled: Promise<{ digest: string; size: number }> | undefined;

  /** Started on the first byte: a stream opened and never read costs no worker job. */
  const start = (): Worker => {
    if (w !== undefined) return w;
    const shared = new SharedArrayBuffer(RING);
    ring = Buffer.from(shared);
    w = theWorker();
    settled = new Promise<{ digest: string; size: number }>((resolve, reject) => {
      pending.set(id, {
        resolve,
        reject(e) {
          failure = e;
          wake?.();
          reject(e);
        },
        ack(n) {
          hashed = n;
          if (!ended && hashed === posted) owe(id, false);
          wake?.();
        },
      });
    });
    settled.catch(() => undefined);
    w.postMessage({ op: 'feed', id, algorithm, ring: shared });
    return w;
  };
  const post = (): void => {
    if (copied === posted || w === undefined) return;
    owe(id, true);
    w.postMessage({ op: 'data', id, at: posted % RING, length: copied - posted });
    posted = copied;
  };
  /** Copies what fits of `chunk` from `from` on; returns where it stopped. */
  const copy = (chunk: Buffer, from: number): number => {
    const into = ring as Buffer;
    let at = from;
    while (at < chunk.length) {
      const free = RING - (copied - hashed);
      if (free === 0) break;
      const to = copied % RING;
      const n = Math.min(chunk.length - at, free, RING - to);
      chunk.copy(into, to, at, at + n);
      copied += n;
      at += n;
      // A message never wraps the ring's end.
      if (copied - posted >= POST_EVERY || to + n === RING) post();
    }
    return at;
  };
  const space = (): Promise<void> => new Promise((resolve) => {
    post();
    wake = () => {
      wake = undefined;
      resolve();
    };
  });

  return {
    update(chunk) {
      if (failure !== undefined) return Promise.reject(failure);
      if (chunk.length === 0) return undefined;
      start();
      const at = copy(chunk, 0);
      if (at === chunk.length) return undefined;
      return (async () => {
        for (let from = at; from < chunk.length; from = copy(chunk, from)) {
          await space();
          if (failure !== undefined) throw failure;
        }
      })();
    },
    digest() {
      result ??= (async () => {
        const worker = start();
        post();
        ended = true;
        owe(id, true);
        worker.postMessage({ op: 'end', id });
        const r = await (settled as Promise<{ digest: string; size: number }>);
        if (r.size !== copied) throw new Error(`the hashing worker saw ${r.size} bytes of ${copied}`);
        return r.digest;
      })();
      return result;
    },
    abort() {
      if (w === undefined || !pending.has(id)) return;
      pending.delete(id);
      owe(id, false);
      w.postMessage({ op: 'drop', id });
    },
  };
}
