/**
 * Names of temporary files and directories that carry their owner (host and pid), so a later run
 * can tell the leftovers of a dead process (SIGKILL, power loss) from the work of a live one and
 * remove only the former — a cache blob half-written by a killed pull is hundreds of MB that no
 * rename will ever claim. Owners on another host (a cache on shared storage) are left alone.
 *
 *   .<prefix>-<label>.<host>.<pid>.<random>
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';

/** The host part of a name: what `hostname()` says, reduced to characters safe in a file name. */
function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'host';
}

/** `label` is shortened and made file-name safe; it only helps a person reading the directory. */
export function tempName(prefix: string, label: string): string {
  const safe = label.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40);
  return `.${prefix}-${safe}.${hostTag()}.${process.pid}.${randomBytes(4).toString('hex')}`;
}

const OWNED = /^\.([a-z][a-z0-9-]*)-.*\.([A-Za-z0-9-]+)\.(\d+)\.[0-9a-f]{8}$/;

/** The owner of a temporary name made by `tempName`, or undefined for any other name. */
export function ownerOf(name: string): { prefix: string; host: string; pid: number } | undefined {
  const m = OWNED.exec(name);
  if (m === null) return undefined;
  return { prefix: m[1] as string, host: m[2] as string, pid: Number(m[3]) };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: unknown }).code === 'EPERM';
  }
}

/** True when the owner of `name` was a process of this host that is gone. */
export function isLeftover(name: string, prefixes: readonly string[]): boolean {
  const owner = ownerOf(name);
  if (owner === undefined || !prefixes.includes(owner.prefix)) return false;
  return owner.host === hostTag() && owner.pid !== process.pid && !processAlive(owner.pid);
}

/**
 * Removes the leftovers of dead processes among the entries of `dir` that match `prefixes`.
 * Best effort: a name another sweep removed first, or one we may not remove, is skipped.
 */
export async function sweepLeftovers(dir: string, prefixes: readonly string[]): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith('.') || !isLeftover(name, prefixes)) continue;
    try {
      await rm(path.join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // not ours to remove after all, or already gone
    }
  }
  return removed;
}
