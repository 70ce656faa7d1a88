/**
 * A cross-process lock for small read-modify-write updates (index.json): an O_EXCL lock file
 * holding our pid and host. A lock whose owner is a dead local process, or that is older than
 * `staleMs`, is broken. Waits with short jittered sleeps; honours AbortSignal.
 */
import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { KairosImgError } from '../errors.js';
import { processAlive } from '../temp-names.js';

export interface LockOptions {
  staleMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

export async function withLock<T>(lockPath: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const staleMs = opts.staleMs ?? 30_000;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const me = `${process.pid}@${hostname()}`;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const fh = await open(lockPath, 'wx');
      try {
        await fh.writeFile(me);
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EEXIST') throw err;
      if (await isStale(lockPath, staleMs)) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new KairosImgError('LOCK_TIMEOUT', `timed out waiting for ${lockPath}`, {
          hint: 'another kairos-img is updating the cache; if none is running, delete the lock file',
        });
      }
      await sleep(10 + Math.floor(Math.random() * 40), undefined, opts.signal ? { signal: opts.signal } : undefined);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const [owner, st] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    const m = /^(\d+)@(.*)$/.exec(owner);
    if (m !== null && m[2] === hostname() && !processAlive(Number(m[1]))) return true;
    return Date.now() - st.mtimeMs > staleMs;
  } catch {
    return false; // vanished or half-written: just retry
  }
}
