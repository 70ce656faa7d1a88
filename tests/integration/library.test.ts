// The library as a program uses it (the built package, `import ... from 'kairos-img'` resolved to
// dist/index.js): operations take a reference string, print nothing on stdout or stderr, and report
// progress only through `onEvent`.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { testEnv } from '../helpers/env.js';

const exec = promisify(execFile);
const env = testEnv();
const dist = path.resolve('dist/index.js');
let work: string;

beforeAll(async () => {
  await seed({ registry: env.registry, set: 'demo', log: () => undefined });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-library-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs an ES module body in a fresh Node process with the library imported as `k`. */
async function program(body: string): Promise<{ stdout: string; stderr: string; result: unknown }> {
  const script = `import * as k from ${JSON.stringify(dist)};\nconst result = await (async () => { ${body} })();\nprocess.stdout.write('\\n@@RESULT@@' + JSON.stringify(result));`;
  const { stdout, stderr } = await exec(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: '1' },
  });
  const at = stdout.lastIndexOf('\n@@RESULT@@');
  return { stdout: stdout.slice(0, at), stderr, result: JSON.parse(stdout.slice(at + '\n@@RESULT@@'.length)) as unknown };
}

describe('library operations', () => {
  it('pull, unpack, verify and extractImg take reference strings and print nothing without onEvent', async () => {
    const ref = `${env.registry}/kairos/core-opensuse:v1.4.0`;
    const artifact = `${env.registry}/kairos/core-alpine-arm-rpi:v1.5.0.img`;
    const cache = path.join(work, 'cache');
    const r = await program(`
      const p = await k.pull({ image: ${JSON.stringify(ref)}, cacheDir: ${JSON.stringify(cache)}, plainHttp: true });
      const u = await k.unpack({ image: ${JSON.stringify(ref)}, dir: ${JSON.stringify(path.join(work, 'rootfs'))}, cacheDir: ${JSON.stringify(cache)}, plainHttp: true });
      const v = await k.verify({ image: ${JSON.stringify(ref)}, plainHttp: true });
      const x = await k.extractImg({ artifact: ${JSON.stringify(artifact)}, outDir: ${JSON.stringify(path.join(work, 'build'))}, plainHttp: true });
      return { pulled: p.digest, layers: p.layers, unpacked: u.entries, fromCache: u.fromCache, verified: v.checks.length, files: x.files.length };
    `);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    const result = r.result as { pulled: string; layers: number; unpacked: number; fromCache: boolean; verified: number; files: number };
    expect(result.pulled).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.layers).toBeGreaterThan(0);
    expect(result.unpacked).toBeGreaterThan(0);
    // Pulled first, so the unpack needs no registry request at all.
    expect(result.fromCache).toBe(true);
    expect(result.verified).toBeGreaterThan(3);
    expect(result.files).toBe(2);
  });

  it('reports typed progress events through onEvent, in order', async () => {
    const ref = `${env.registry}/kairos/core-opensuse:v1.3.2`;
    const r = await program(`
      const events = [];
      await k.pull({ image: { reference: ${JSON.stringify(ref)} }, cacheDir: ${JSON.stringify(path.join(work, 'cache2'))}, plainHttp: true, onEvent: (e) => events.push(e) });
      return events.map((e) => e.type);
    `);
    expect(r.stderr).toBe('');
    const types = r.result as string[];
    expect(types[0]).toBe('resolved');
    expect(types[1]).toBe('manifest');
    expect(types).toContain('layers');
    expect(types).toContain('layer-done');
    expect(types[types.length - 1]).toBe('verified');
  });

  it('an abort signal stops an operation with an interrupted error', async () => {
    const ref = `${env.registry}/kairos/core-opensuse:v1.4.0`;
    const r = await program(`
      const ac = new AbortController();
      ac.abort();
      try {
        await k.pull({ image: ${JSON.stringify(ref)}, cacheDir: ${JSON.stringify(path.join(work, 'cache3'))}, plainHttp: true, signal: ac.signal });
        return 'completed';
      } catch (e) {
        return { name: e.name, code: e.code };
      }
    `);
    expect(r.result).not.toBe('completed');
    expect(isAbort(r.result)).toBe(true);
  });
});

function isAbort(v: unknown): boolean {
  const e = v as { name?: string; code?: string };
  return e.name === 'AbortError' || e.code === 'INTERRUPTED' || e.code === 'ABORT_ERR';
}
