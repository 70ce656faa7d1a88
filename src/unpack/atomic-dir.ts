/**
 * The all-or-nothing target directory: build in a temporary sibling (same filesystem, so rename(2)
 * is atomic), then swap it in. An existing non-empty target is refused unless forced; when forced it
 * is renamed aside first and removed only after the new tree is in place.
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { KairosImgError } from '../errors.js';
import { errnoOf } from './root-writer.js';

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

function token(): string {
  return randomBytes(6).toString('hex');
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
  await fsp.mkdir(parent, { recursive: true });
  const temp = join(parent, `.${name}.kairos-img-tmp-${token()}`);
  // 0700 while partial: nobody else walks into a half-written tree (setuid files included).
  await fsp.mkdir(temp, { mode: 0o700 });

  const discard = async (): Promise<void> => {
    await fsp.rm(temp, { recursive: true, force: true });
  };

  const commit = async (): Promise<void> => {
    const now = await state(dir);
    if (now === 'non-empty' && !opts.force) {
      throw new KairosImgError('UNPACK_TARGET_NOT_EMPTY', `target directory "${dir}" became non-empty during the unpack`, {
        hint: 'pass --force to replace its content',
      });
    }
    if (now === 'missing') {
      await fsp.rename(temp, dir);
      return;
    }
    // An empty or (forced) non-empty directory: move it aside, move the new one in, then clean up.
    const old = join(parent, `.${name}.kairos-img-old-${token()}`);
    await fsp.rename(dir, old);
    try {
      await fsp.rename(temp, dir);
    } catch (e) {
      await fsp.rename(old, dir).catch(() => undefined);
      throw e;
    }
    await fsp.rm(old, { recursive: true, force: true });
  };

  return { dir, temp, commit, discard };
}
