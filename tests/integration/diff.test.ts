// `kairos-img diff` against the real registry: two fixture images with dpkg databases (ubuntu
// 24.04 v3.2.1 → v3.2.4), two with apk databases (alpine 3.21 v3.4.2 → v3.5.0), release keys that
// moved from /etc/os-release to /etc/kairos-release, kernels from /lib/modules, the k3s version;
// an image whose 20 MiB bottom layer is never requested (counted at the fault proxy); and
// `releases --diff` for the upgrade target.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { buildImage, pushImage, withParents } from '../../scripts/fixtures/image-builder.mjs';
import { kairosReleaseEntries, kernelEntries, packageDatabaseEntries, upstreamEntries } from '../../scripts/fixtures/kairos-shapes.mjs';
import { testEnv } from '../helpers/env.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { json, runCli, type CliRun } from '../helpers/cli.js';

const env = testEnv();
const reg = env.registry;
let work: string;
let proxy: FaultProxy;

interface Facts { reference: string; releaseFile?: string; kernel: string[]; k8s?: { distro: string; version: string }; packages?: { format: string; packages?: Record<string, string> }; read: { layersRead: number; layersTotal: number; bytesRead: number; bytesTotal: number } }
interface Diff {
  a: Facts;
  b: Facts;
  changes: {
    release: Array<{ key: string; from?: string; to?: string }>;
    os: Array<{ key: string; from?: string; to?: string }>;
    kernel?: { from: string[]; to: string[] };
    k8s?: { from?: string; to?: string };
    packages?: { format: string; added: Array<{ name: string; version: string }>; removed: Array<{ name: string; version: string }>; changed: Array<{ name: string; from: string; to: string }>; unchanged: number };
  };
}

function cli(args: string[], registry = reg): Promise<CliRun> {
  return runCli(['--registry', registry, '--plain-http', ...args], { env: { KAIROS_IMG_CACHE: path.join(work, 'cache') } });
}

const BIG_REPO = 'diff-big/ubuntu';
let bigLayerDigest: string;

beforeAll(async () => {
  await seed({ registry: reg, set: 'test' });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-diff-'));
  proxy = await startFaultProxy({ upstream: reg });
  // Bottom: 20 MiB that diff never needs; middle: the distribution; top: what Kairos adds (release keys, dpkg, kernel).
  const spec = { repository: BIG_REPO, tag: '24.04-core-amd64-generic-v3.2.4', version: 'v3.2.4', flavor: 'ubuntu', flavorRelease: '24.04', variant: 'core' as const, upstream: 'ubuntu-24.04' as const, model: 'generic', packages: [['base-files', '13ubuntu10.1']] as Array<[string, string]>, kernel: '6.8.0-49-generic' };
  const big = createCipheriv('aes-256-ctr', createHash('sha256').update('kairos-img diff big layer').digest(), Buffer.alloc(16)).update(Buffer.alloc(20 * 1024 * 1024));
  const built = await buildImage({
    dir: path.join(work, 'big-layout'),
    tag: 'v',
    layers: [
      { compression: 'gzip', level: 1, entries: withParents([{ path: '/usr/share/big.bin', type: 'file', content: big }]) },
      { compression: 'gzip', entries: upstreamEntries('ubuntu-24.04') },
      { compression: 'gzip', entries: withParents([...kairosReleaseEntries(spec), ...packageDatabaseEntries(spec), ...kernelEntries(spec)]) },
    ],
  });
  bigLayerDigest = built.layers[0]?.digest ?? '';
  await pushImage({ layoutDir: path.join(work, 'big-layout'), tag: 'v', dest: `${reg}/${BIG_REPO}:${spec.tag}`, plainHttp: true });
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('diff', () => {
  it('dpkg: packages changed, added and removed; the kernel; release keys from os-release to kairos-release', async () => {
    const r = await cli(['diff', `${reg}/kairos/ubuntu:24.04-core-amd64-generic-v3.2.1`, `${reg}/kairos/ubuntu:24.04-core-amd64-generic-v3.2.4`, '--json']);
    expect(r.code).toBe(0);
    const d = json<Diff>(r);
    expect(d.a.releaseFile).toBe('/etc/os-release');
    expect(d.b.releaseFile).toBe('/etc/kairos-release');
    expect(d.changes.release).toContainEqual({ key: 'KAIROS_RELEASE', from: 'v3.2.1', to: 'v3.2.4' });
    expect(d.changes.kernel).toEqual({ from: ['6.8.0-45-generic'], to: ['6.8.0-49-generic'] });
    expect(d.changes.packages).toEqual({
      format: 'dpkg',
      changed: [{ name: 'libssl3t64', from: '3.0.13-0ubuntu3.4', to: '3.0.13-0ubuntu3.5' }, { name: 'openssh-server', from: '1:9.6p1-3ubuntu13.5', to: '1:9.6p1-3ubuntu13.8' }],
      added: [{ name: 'nano', version: '7.2-2ubuntu0.1' }],
      removed: [{ name: 'vim-tiny', version: '2:9.1.0016-1ubuntu7.2' }],
      unchanged: 2,
    });
    expect(d.changes.os).toEqual([]);
  });
  it('apk, in human form', async () => {
    const r = await cli(['diff', `${reg}/kairos/alpine:3.21-core-amd64-generic-v3.4.2`, `${reg}/kairos/alpine:3.21-core-amd64-generic-v3.5.0`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kernel: 6.12.13-0-lts → 6.12.20-0-lts');
    expect(r.stdout).toContain('packages (apk): 2 changed, 1 added, 0 removed, 2 unchanged');
    expect(r.stdout).toMatch(/^ {2}~ busybox 1\.37\.0-r12 → 1\.37\.0-r13$/m);
    expect(r.stdout).toMatch(/^ {2}\+ chrony 4\.6\.1-r1$/m);
  });
  it('the Kubernetes version and the distribution\'s release (hadron standard → core)', async () => {
    const d = json<Diff>(await cli(['diff', `${reg}/kairos/hadron:v0.2.0-standard-amd64-generic-v4.1.0-k3s-v1.33.1-k3s1`, `${reg}/kairos/hadron:v0.4.0-core-amd64-generic-v4.1.2`, '--json']));
    expect(d.a.k8s).toMatchObject({ distro: 'k3s', version: 'v1.33.1+k3s1' });
    expect(d.changes.k8s).toEqual({ from: 'k3s v1.33.1+k3s1' });
    expect(d.changes.os).toContainEqual({ key: 'VERSION_ID', from: 'v0.2.0', to: 'v0.4.0' });
    expect(d.changes.kernel).toEqual({ from: ['6.12.9-hadron'], to: ['6.12.30-hadron'] });
  });
  it('reads only the layers that hold those files: the 20 MiB bottom layer is never requested', async () => {
    proxy.clearRequests();
    const r = await cli(['diff', `${proxy.address}/kairos/ubuntu:24.04-core-amd64-generic-v3.2.4`, `${proxy.address}/${BIG_REPO}:24.04-core-amd64-generic-v3.2.4`, '--json'], proxy.address);
    expect(r.code).toBe(0);
    const d = json<Diff>(r);
    expect(d.b.read).toMatchObject({ layersRead: 2, layersTotal: 3 });
    expect(d.b.read.bytesTotal).toBeGreaterThan(20 * 1024 * 1024);
    expect(d.b.read.bytesRead).toBeLessThan(64 * 1024);
    expect(d.b.kernel).toEqual(['6.8.0-49-generic']);
    expect(proxy.requests.filter((q) => q.method === 'GET' && q.path.endsWith(bigLayerDigest))).toEqual([]);
  });
  it('two images, exactly: a usage error otherwise', async () => {
    const r = await cli(['diff', `${reg}/kairos/alpine:3.21-core-amd64-generic-v3.4.2`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('name two images to compare');
  });
});

describe('releases --diff', () => {
  it('diffs the current image with the upgrade target', async () => {
    const d = json<{ plan: { reference: string }; diff: Diff }>(await cli(['releases', '--image', `${reg}/kairos/alpine:3.21-core-amd64-generic-v3.4.2`, '--diff', '--json']));
    expect(d.plan.reference).toBe(`${reg}/kairos/alpine:3.21-core-amd64-generic-v3.5.0`);
    expect(d.diff.a.reference).toBe(`${reg}/kairos/alpine:3.21-core-amd64-generic-v3.4.2`);
    expect(d.diff.changes.packages?.added).toEqual([{ name: 'chrony', version: '4.6.1-r1' }]);
    expect(d.diff.changes.kernel).toEqual({ from: ['6.12.13-0-lts'], to: ['6.12.20-0-lts'] });
  });
});
