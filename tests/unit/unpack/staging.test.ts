// The staged target directory: concurrent unpacks into one target, parents created for a failed
// unpack, and staging trees left by killed runs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stageDir, unpackTarStreams } from '../../../src/unpack/index.js';
import { tempName } from '../../../src/temp-names.js';
import { streamOf, tarOf } from '../../helpers/layers.js';

let base: string;
beforeEach(async () => { base = await mkdtemp(path.join(tmpdir(), 'kimg-staging-')); });
afterEach(async () => { await rm(base, { recursive: true, force: true }); });

describe('staging', () => {
  it('two unpacks into one new target: one wins, the other gets UNPACK_TARGET_NOT_EMPTY, nothing is left behind', async () => {
    const target = path.join(base, 'root');
    const a = await stageDir({ dir: target });
    const b = await stageDir({ dir: target });
    await writeFile(path.join(a.temp, 'from-a'), 'a');
    await writeFile(path.join(b.temp, 'from-b'), 'b');
    await a.commit();
    await expect(b.commit()).rejects.toMatchObject({ code: 'UNPACK_TARGET_NOT_EMPTY', message: expect.stringMatching(/became non-empty/) });
    await b.discard();
    expect(await readdir(target)).toEqual(['from-a']);
    expect(await readdir(base)).toEqual(['root']);
  });

  it('two forced unpacks racing over an existing target: the loser fails clearly (no raw ENOENT)', async () => {
    const target = path.join(base, 'root');
    await mkdir(target);
    await writeFile(path.join(target, 'old'), 'old');
    const a = await stageDir({ dir: target, force: true });
    const b = await stageDir({ dir: target, force: true });
    await writeFile(path.join(a.temp, 'from-a'), 'a');
    // b moves the target aside first; a's own move then finds nothing there.
    const results = await Promise.allSettled([a.commit(), b.commit()]);
    const failed = results.filter((r) => r.status === 'rejected');
    for (const f of failed) expect((f as PromiseRejectedResult).reason).toMatchObject({ code: 'UNPACK_TARGET_NOT_EMPTY' });
    expect(failed.length).toBeLessThanOrEqual(1);
    expect(existsSync(target)).toBe(true);
  });

  it('a failed unpack into a/b/c/root removes the a/b/c it created, and only that', async () => {
    await mkdir(path.join(base, 'a'));
    await writeFile(path.join(base, 'a', 'keep'), 'mine');
    const target = path.join(base, 'a', 'b', 'c', 'root');
    // A header and half a block of content: the archive ends inside the entry.
    const bad = (await tarOf([{ path: 'x', type: 'file', content: 'x'.repeat(2000) }])).subarray(0, 900);
    await expect(unpackTarStreams({ dir: target, streams: [streamOf(bad)] })).rejects.toMatchObject({ code: 'UNPACK_LAYER_CORRUPT' });
    expect(await readdir(path.join(base, 'a'))).toEqual(['keep']);
  });

  it('staging trees of dead processes are removed by the next unpack next to them; live ones stay', async () => {
    const target = path.join(base, 'root');
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const live = spawn('sleep', ['30']);
    const deadName = tempName('kimg-unpack', 'root').replace(`.${process.pid}.`, `.${dead.pid ?? 0}.`);
    const liveName = tempName('kimg-unpack', 'root').replace(`.${process.pid}.`, `.${live.pid ?? 0}.`);
    for (const n of [deadName, liveName]) {
      await mkdir(path.join(base, n, 'usr'), { recursive: true });
      await writeFile(path.join(base, n, 'usr', 'big'), 'x'.repeat(1000));
    }
    await unpackTarStreams({ dir: target, streams: [streamOf(await tarOf([{ path: 'etc/', type: 'dir' }, { path: 'etc/os-release', type: 'file', content: 'ID=test\n' }]))] });
    live.kill();
    expect((await readdir(base)).sort()).toEqual([liveName, 'root'].sort());
    expect(await readFile(path.join(target, 'etc/os-release'), 'utf8')).toBe('ID=test\n');
  });
});
