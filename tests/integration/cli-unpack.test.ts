// `kairos-img unpack` against the real registry: the same tree as umoci for OCI and Docker images,
// warm runs without registry traffic, and atomicity when a blob is corrupt, the network is lost
// after retries, or the run is interrupted — the target stays as it was, nothing temporary remains.
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { buildImage, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { testEnv } from '../helpers/env.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { normalizeInodeGroups, snapshotTree, type TreeNode } from '../helpers/layers.js';
import { json, runCli } from '../helpers/cli.js';

const exec = promisify(execFile);
const env = testEnv();
let work: string;
let proxy: FaultProxy;

function cli(args: string[], opts: { registry?: string; cache?: string; signal?: AbortSignal } = {}) {
  return runCli(['--registry', opts.registry ?? env.registry, '--plain-http', ...args], {
    env: { KAIROS_IMG_CACHE: opts.cache ?? path.join(work, 'cache') },
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
}

function diff(a: Map<string, TreeNode>, b: Map<string, TreeNode>): string[] {
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = JSON.stringify(a.get(k));
    const y = JSON.stringify(b.get(k));
    if (x !== y) out.push(`${k}: ours ${x} umoci ${y}`);
  }
  return out;
}

/** A one-off image with incompressible content, so its blobs are its own (safe to corrupt or cut). */
async function uniqueImage(name: string, size: number): Promise<{ ref: string; layer: { digest: string; size: number } }> {
  const dir = path.join(work, `layout-${name}`);
  const img = await buildImage({
    dir,
    tag: 'v1',
    layers: [
      { compression: 'gzip', entries: [{ path: 'etc/', type: 'dir' }, { path: 'etc/hello', type: 'file', content: `hello ${name}\n` }] },
      { compression: 'gzip', entries: [{ path: 'data/', type: 'dir' }, { path: 'data/blob.bin', type: 'file', content: randomBytes(size) }] },
    ],
  });
  const ref = `${env.registry}/test/${name}-${randomBytes(4).toString('hex')}:v1`;
  await pushImage({ layoutDir: dir, tag: 'v1', dest: ref });
  const layer = img.layers[1];
  if (layer === undefined) throw new Error('no layer');
  return { ref, layer };
}

async function prefilled(name: string): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'keep-me'), 'old content\n');
  return dir;
}

async function expectUntouched(dir: string): Promise<void> {
  expect(await readdir(dir)).toEqual(['keep-me']);
  expect(await readFile(path.join(dir, 'keep-me'), 'utf8')).toBe('old content\n');
  const siblings = await readdir(path.dirname(dir));
  expect(siblings.filter((s) => s.startsWith('.kimg-') || s.startsWith(`.${path.basename(dir)}`))).toEqual([]);
}

beforeAll(async () => {
  await seed({ registry: env.registry, set: 'test' });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-unpack-'));
  proxy = await startFaultProxy({ upstream: env.registry });
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('the same tree as umoci', () => {
  for (const repo of ['test/layers-oci', 'test/layers-docker']) {
    it(`${repo} (whiteouts, opaque dirs, hardlinks, symlinks, setuid, long names)`, async () => {
      const ref = `${env.registry}/${repo}:v1`;
      const ours = path.join(work, `${repo.replace('/', '-')}-ours`);
      const r = await cli(['unpack', ref, ours, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(json<{ whiteouts: number }>(r).whiteouts).toBeGreaterThan(0);
      // umoci reads the OCI layout kairos-img writes (Docker schema 2 converted to OCI on the way).
      const layout = path.join(work, `${repo.replace('/', '-')}-layout`);
      expect((await cli(['pull', ref, '--to', `oci:${layout}:v1`])).code).toBe(0);
      const bundle = path.join(work, `${repo.replace('/', '-')}-bundle`);
      await exec('umoci', ['unpack', '--rootless', '--image', `${layout}:v1`, bundle]);
      const a = normalizeInodeGroups(await snapshotTree(ours));
      const b = normalizeInodeGroups(await snapshotTree(path.join(bundle, 'rootfs')));
      expect(diff(a, b)).toEqual([]);
      expect(a.size).toBeGreaterThan(10);
    });
  }
});

describe('cache', () => {
  it('a warm unpack makes no registry request at all', async () => {
    const cache = path.join(work, 'cache-warm');
    proxy.clearRequests();
    const cold = json<{ fromCache: boolean }>(await cli(['unpack', 'opensuse', 'standard', path.join(work, 'warm1'), '--version', 'v1.5.0', '--k3s', 'v1.26.1+k3s1', '--json'], { registry: proxy.address, cache }));
    expect(cold.fromCache).toBe(false);
    expect(proxy.requests.filter((r) => r.path.includes('/blobs/')).length).toBe(4);
    proxy.clearRequests();
    const warm = json<{ fromCache: boolean; entries: number }>(await cli(['unpack', 'opensuse', 'standard', path.join(work, 'warm2'), '--version', 'v1.5.0', '--k3s', 'v1.26.1+k3s1', '--json'], { registry: proxy.address, cache }));
    expect(warm.fromCache).toBe(true);
    expect(proxy.requests).toEqual([]);
    const a = await snapshotTree(path.join(work, 'warm1'));
    expect(diff(a, await snapshotTree(path.join(work, 'warm2')))).toEqual([]);
  });
  it('a blob cut once mid-transfer is resumed and the tree is complete', async () => {
    const { ref, layer } = await uniqueImage('resume', 3 << 20);
    const hex = layer.digest.slice(7);
    proxy.setFaults([{ kind: 'cut', afterBytes: 1 << 20, times: 1, match: new RegExp(hex) }]);
    proxy.clearRequests();
    const dir = path.join(work, 'resumed');
    const r = await cli(['unpack', ref.replace(env.registry, proxy.address), dir], { registry: proxy.address, cache: path.join(work, 'cache-resume') });
    proxy.setFaults([]);
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.requests.some((q) => q.path.includes(hex) && q.range !== undefined)).toBe(true);
    expect((await readFile(path.join(dir, 'data/blob.bin'))).length).toBe(3 << 20);
  });
});

describe('atomicity: the target is as it was, nothing temporary remains', () => {
  it('a blob corrupted in the registry', async () => {
    const { ref, layer } = await uniqueImage('corrupt', 256 << 10);
    const hex = layer.digest.slice(7);
    const data = path.join(env.registryStorage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const bytes = await readFile(data);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
    await writeFile(data, bytes);
    const dir = await prefilled('target-corrupt');
    const cache = path.join(work, 'cache-corrupt');
    const r = await cli(['unpack', ref, dir, '--force'], { cache });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: .*${hex.slice(0, 12)}`, 'm'));
    await expectUntouched(dir);
    expect(existsSync(path.join(cache, 'blobs/sha256', hex))).toBe(false);
    expect((await readdir(path.join(cache, 'blobs/sha256'))).filter((n) => n.startsWith('.'))).toEqual([]);
  });
  it('the network lost for good (every attempt cut)', async () => {
    const { ref, layer } = await uniqueImage('cut', 2 << 20);
    proxy.setFaults([{ kind: 'cut', afterBytes: 64 << 10, times: 100, match: new RegExp(layer.digest.slice(7)) }]);
    const dir = await prefilled('target-cut');
    const r = await cli(['unpack', ref.replace(env.registry, proxy.address), dir, '--force'], { registry: proxy.address, cache: path.join(work, 'cache-cut') });
    proxy.setFaults([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: /m);
    await expectUntouched(dir);
  });
  it('interrupted (Ctrl-C → AbortSignal): exit 130', async () => {
    const { ref, layer } = await uniqueImage('abort', 1 << 20);
    const hex = layer.digest.slice(7);
    proxy.setFaults([{ kind: 'status', status: 503, retryAfter: 30, times: 10, match: new RegExp(hex) }]);
    proxy.clearRequests();
    const dir = await prefilled('target-abort');
    const controller = new AbortController();
    const running = cli(['unpack', ref.replace(env.registry, proxy.address), dir, '--force'], { registry: proxy.address, cache: path.join(work, 'cache-abort'), signal: controller.signal });
    const deadline = Date.now() + 20_000;
    while (!proxy.requests.some((q) => q.path.includes(hex) && q.status === 503) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    controller.abort();
    const r = await running;
    proxy.setFaults([]);
    expect(r.code).toBe(130);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r.stderr).toMatch(/interrupted/);
    await expectUntouched(dir);
  });
});
