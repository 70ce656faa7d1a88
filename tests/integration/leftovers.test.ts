// What a killed run leaves behind is removed by the next one; what a live run is writing is not.
// A real `kairos-img pull` is SIGKILLed while a blob streams into the cache (a proxy in front of the
// real registry sends half of the blob and then stalls), and the next command sweeps the remains.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { openStore } from '../../src/store/index.js';
import { tempName } from '../../src/temp-names.js';
import { testEnv } from '../helpers/env.js';

const env = testEnv();
let work: string;
let stall: Server;
let stallHost: string;
let ref: string;
let layerHex: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-leftovers-'));
  const dir = path.join(work, 'layout');
  const img = await buildImage({ dir, tag: 'v1', layers: [{ compression: 'none', entries: [{ path: 'big.bin', type: 'file', content: randomBytes(4 << 20) }] }] });
  const repo = `test/leftovers-${randomBytes(4).toString('hex')}`;
  await pushImage({ layoutDir: dir, tag: 'v1', dest: `${env.registry}/${repo}:v1` });
  layerHex = (img.layers[0]?.digest ?? '').slice(7);
  // Everything passes through, except the layer blob: half of it, then silence.
  stall = createServer((req, res) => {
    const upstream = request({ host: env.registry.split(':')[0], port: Number(env.registry.split(':')[1]), path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (!(req.url ?? '').includes(layerHex)) {
        up.pipe(res);
        return;
      }
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        if (sent < 2 << 20) res.write(chunk);
        sent += chunk.length;
      });
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
  stallHost = `127.0.0.1:${(stall.address() as AddressInfo).port}`;
  ref = `${stallHost}/${repo}:v1`;
}, 120_000);

afterAll(async () => {
  stall.closeAllConnections();
  await new Promise<void>((r) => stall.close(() => r()));
  await rm(work, { recursive: true, force: true });
});

function cli(args: string[], cache: string): ChildProcess {
  return spawn(process.execPath, [path.resolve('bin/kairos-img'), ...args, '--plain-http', '--quiet'], {
    env: { PATH: process.env.PATH, HOME: work, KAIROS_IMG_CACHE: cache }, stdio: 'ignore',
  });
}

async function temps(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('.'));
}

async function stalledTemp(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return false;
  for (const n of await temps(dir)) {
    const st = await stat(path.join(dir, n)).catch(() => undefined);
    if (st && st.size > 1 << 20) return true;
  }
  return false;
}

describe('leftovers of killed runs', () => {
  it('a blob half-written by a SIGKILLed pull is removed by the next run', async () => {
    const cache = path.join(work, 'cache');
    const blobs = path.join(cache, 'blobs', 'sha256');
    const child = cli(['pull', ref], cache);
    const deadline = Date.now() + 30_000;
    // The config blob passes through a temp file too; wait for the stalled layer's (over 1 MiB).
    while (Date.now() < deadline && !(await stalledTemp(blobs))) await new Promise((r) => setTimeout(r, 50));
    expect(await temps(blobs)).toHaveLength(1);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(await temps(blobs)).toHaveLength(1); // the remains, until someone sweeps them
    await openStore({ root: cache }); // what every command does first
    expect(await temps(blobs)).toEqual([]);
  });

  it('files of live processes and of other hosts are kept', async () => {
    const cache = path.join(work, 'cache2');
    const store = await openStore({ root: cache });
    const blobs = path.join(store.root, 'blobs', 'sha256');
    const sleeper = spawn('sleep', ['30']);
    const live = tempName('kimg-tmp', 'live').replace(`.${process.pid}.`, `.${sleeper.pid ?? 0}.`);
    const otherHost = tempName('kimg-tmp', 'remote').replace(/\.[A-Za-z0-9-]+\.(\d+)\.([0-9a-f]{8})$/, '.elsewhere.1.$2');
    const own = tempName('kimg-tmp', 'mine');
    for (const n of [live, otherHost, own]) await writeFile(path.join(blobs, n), 'x');
    await openStore({ root: cache });
    sleeper.kill();
    expect((await temps(blobs)).sort()).toEqual([live, otherHost, own].sort());
  });
});
