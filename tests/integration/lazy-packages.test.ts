// The CLI loads yaml, tar-stream, fzstd and semver only when a run needs them (src/lazy-packages.ts),
// and listr2 only when progress is shown: a quiet pull from a full reference with no configuration
// file needs none of them; `flavors` reads YAML. listr2 is ESM, which require.cache does not list:
// its CommonJS dependency rfdc (loaded with it, by nothing else here) stands for it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = path.resolve('bin/kairos-img');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kimg-lazy-'));
const preload = path.join(dir, 'record.cjs');
writeFileSync(preload, "process.on('exit', () => require('fs').writeFileSync(process.env.KIMG_REC_OUT, JSON.stringify(Object.keys(require.cache))));");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LAZY = ['yaml', 'tar-stream', 'fzstd', 'semver', 'rfdc'];

/** The lazy packages a run of the CLI loaded. */
function loaded(args: string[]): Promise<{ stderr: string; packages: string[] }> {
  const out = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `--require ${preload}`, KIMG_REC_OUT: out, XDG_CONFIG_HOME: path.join(dir, 'no-config') };
  delete env.KAIROS_IMG_CONFIG;
  return new Promise((resolve) => {
    execFile(bin, args, { env }, (_err, _stdout, stderr) => {
      const files = JSON.parse(readFileSync(out, 'utf8')) as string[];
      resolve({ stderr, packages: LAZY.filter((p) => files.some((f) => f.includes(`${path.sep}node_modules${path.sep}${p}${path.sep}`))) });
    });
  });
}

describe('lazy packages', () => {
  it('a pull from a full reference loads none of them', async () => {
    // Port 9 (discard) refuses at once on loopback: the run gets as far as its first request.
    const r = await loaded(['pull', '127.0.0.1:9/kairos/core:v1', '--to', `oci:${path.join(dir, 'layout')}`, '--plain-http', '--quiet']);
    expect(r.stderr).toMatch(/127\.0\.0\.1:9/); // it got as far as the registry
    expect(r.packages).toEqual([]);
  });

  it('flavors, which reads the YAML catalogs and checks their versions, loads yaml and semver', async () => {
    expect((await loaded(['flavors'])).packages).toEqual(['yaml', 'semver']);
  });

  it('a pull that shows progress loads listr2 (and nothing else lazy)', async () => {
    const r = await loaded(['pull', '127.0.0.1:9/kairos/core:v1', '--to', `oci:${path.join(dir, 'layout')}`, '--plain-http']);
    expect(r.stderr).toMatch(/127\.0\.0\.1:9/);
    expect(r.packages).toEqual(['rfdc']);
  });
});
