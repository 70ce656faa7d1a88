/**
 * The all-or-nothing target directory: build in a temporary sibling (same filesystem, so rename(2)
 * is atomic), then swap it in. An existing non-empty target is refused unless forced; when forced it
 * is renamed aside first and removed only after the new tree is in place. Staging directories are
 * named for their owner (host, pid): a later unpack next to them removes those of dead processes
 * (SIGKILL), never a live one's. Parents created for the target go again when the unpack fails.
 */
import * as fsp from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { KairosImgError } from '../errors.js';
import { sweepLeftovers, tempName } from '../temp-names.js';
import { errnoOf } from './root-writer.js';

/** A tree being unpacked, next to its target. */
const STAGING_PREFIX = 'kimg-unpack';
/** The previous content of a forced target, between the two renames of the swap. */
const OLD_PREFIX = 'kimg-old';

export interface StagedDir {
  /** The final target (absolute). */
  dir: string;
  /** Where to build. */
  temp: string;
  /** Moves `temp` into place; the previous content (when forced) is removed afterwards. */
  commit(): Promise<void>;
  /** Removes `temp`; `dir` is left as it was. */
  discard(): Promise<void>;
}

async function state(dir: string): Promise<'missing' | 'empty' | 'non-empty'> {
  let st;
  try {
    st = await fsp.lstat(dir);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return 'missing';
    throw e;
  }
  if (!st.isDirectory()) {
    throw new KairosImgError('UNPACK_TARGET_NOT_A_DIRECTORY', `"${dir}" exists and is not a directory`, {
      hint: 'choose another target directory or remove that file',
    });
  }
  return (await fsp.readdir(dir)).length === 0 ? 'empty' : 'non-empty';
}

/** Refuses a target that is a file, or a non-empty directory without `force`: callers check before any download. */
export async function checkTarget(opts: { dir: string; force?: boolean | undefined }): Promise<void> {
  const dir = resolve(opts.dir);
  if ((await state(dir)) === 'non-empty' && !opts.force) {
    throw new KairosImgError('UNPACK_TARGET_NOT_EMPTY', `target directory "${dir}" is not empty`, {
      hint: 'pass --force to replace its content, or choose an empty directory',
    });
  }
}

export async function stageDir(opts: { dir: string; force?: boolean | undefined }): Promise<StagedDir> {
  const dir = resolve(opts.dir);
  const parent = dirname(dir);
  const name = basename(dir);
  await checkTarget(opts);
  // The first directory this call created, if any: removed again (when still empty) on discard.
  const createdFrom = await fsp.mkdir(parent, { recursive: true });
  // Staging trees of killed runs are hundreds of MB; an old copy of a target is removed only when the
  // swap completed (the target exists), since otherwise it may be the user's only copy.
  await sweepLeftovers(parent, (await state(dir)) === 'missing' ? [STAGING_PREFIX] : [STAGING_PREFIX, OLD_PREFIX]);
  const temp = join(parent, tempName(STAGING_PREFIX, name));
  // 0700 while partial: nobody else walks into a half-written tree (setuid files included).
  await fsp.mkdir(temp, { mode: 0o700 });

  const discard = async (): Promise<void> => {
    await fsp.rm(temp, { recursive: true, force: true });
    if (createdFrom === undefined) return;
    for (let d = parent; d.length >= createdFrom.length; d = dirname(d)) {
      try {
        await fsp.rmdir(d);
      } catch {
        break; // not empty any more (someone else uses it), or gone
      }
      if (d === createdFrom) break;
    }
  };

  const raced = (e: unknown): KairosImgError => new KairosImgError('UNPACK_TARGET_NOT_EMPTY', `target directory "${dir}" became non-empty during the unpack (another process wrote it)`, {
    hint: 'unpack into another directory, or run one unpack into it at a time',
    cause: e,
  });

  const commit = async (): Promise<void> => {
    const now = await state(dir);
    if (now === 'non-empty' && !opts.force) {
      throw new KairosImgError('UNPACK_TARGET_NOT_EMPTY', `target directory "${dir}" became non-empty during the unpack`, {
        hint: 'pass --force to replace its content',
      });
    }
    // Another unpack into the same target may win any of the renames below: ENOTEMPTY/EEXIST when
    // it put its tree in place first, ENOENT when it moved the directory away first.
    const lost = (e: unknown): boolean => ['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes(errnoOf(e) ?? '');
    if (now === 'missing') {
      try {
        await fsp.rename(temp, dir);
      } catch (e) {
        throw lost(e) ? raced(e) : e;
      }
      return;
    }
    // An empty or (forced) non-empty directory: move it aside, move the new one in, then clean up.
    const old = join(parent, tempName(OLD_PREFIX, name));
    try {
      await fsp.rename(dir, old);
    } catch (e) {
      throw lost(e) ? raced(e) : e;
    }
    try {
      await fsp.rename(temp, dir);
    } catch (e) {
      await fsp.rename(old, dir).catch(() => undefined);
      throw lost(e) ? raced(e) : e;
    }
    await fsp.rm(old, { recursive: true, force: true });
  };

  return { dir, temp, commit, discard };
}
