/**
 * Verifying a blob being written to the cache off the main thread. On a pull the main thread
 * already carries the sockets, the batching of writes and the bookkeeping; hashing 700 MB on it
 * as well (SHA-256 at ~2 GB/s) keeps a second core idle. Instead one worker thread follows each
 * temporary file as it is written — told "N bytes are on disk" after each write — reads the new
 * bytes back from the page cache and hashes them, so the digest is known moments after the last
 * write, and the blob is renamed into the cache only when it matches (as before).
 *
 * The worker is ~40 lines evaluated from a string (no module to resolve, so it runs the same from
 * sources under the test runner as from dist/), started on first use, shared by all blobs, and
 * unreferenced while idle so it never keeps the process alive.
 */
import { Worker } from 'node:worker_threads';

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
  try { fs.closeSync(job.fd); } catch {}
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
    if (job === undefined) return;
    if (m.op === 'drop') { jobs.delete(m.id); try { fs.closeSync(job.fd); } catch {} return; }
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
}

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

function theWorker(): Worker {
  if (worker !== undefined) return worker;
  // It holds a 1 MiB buffer and a few hashes: a small heap keeps its share of the RSS small.
  const w = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16, codeRangeSizeMb: 4, stackSizeMb: 1 } });
  w.unref();
  w.on('message', (m: { id: number; digest?: string; size?: number; error?: string }) => {
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (pending.size === 0) w.unref();
    if (m.error !== undefined) p.reject(new Error(`hashing the blob failed: ${m.error}`));
    else p.resolve({ digest: m.digest as string, size: m.size as number });
  });
  const fail = (e: unknown): void => {
    worker = undefined;
    for (const p of pending.values()) p.reject(e instanceof Error ? e : new Error(String(e)));
    pending.clear();
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
  w.ref();
  let result: Promise<{ digest: string; size: number }> | undefined;
  const settled = new Promise<{ digest: string; size: number }>((resolve, reject) => pending.set(id, { resolve, reject }));
  settled.catch(() => undefined);
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
      if (pending.size === 0) w.unref();
      w.postMessage({ op: 'drop', id });
    },
  };
}
