// The CLI against the real registry: resolution by asking the registry, tags with verdicts, pull
// (multi-arch, OCI layout read by skopeo and umoci, nothing fetched twice) and clear registry errors.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed, type SeededImage } from '../../scripts/fixtures/seed.mjs';
import { testEnv } from '../helpers/env.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { json, runCli } from '../helpers/cli.js';

const exec = promisify(execFile);
const env = testEnv();
const reg = env.registry;
let images: SeededImage[];
let work: string;
let proxy: FaultProxy;

const fact = (ref: string): SeededImage => {
  const found = images.find((i) => `${i.repository}:${i.tag}` === ref);
  if (found === undefined) throw new Error(`fixture ${ref} not seeded`);
  return found;
};

function cli(args: string[], extra: NodeJS.ProcessEnv = {}, registry = reg) {
  return runCli(['--registry', registry, '--plain-http', ...args], { env: { KAIROS_IMG_CACHE: path.join(work, 'cache'), ...extra } });
}

beforeAll(async () => {
  images = await seed({ registry: reg, set: 'test' });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-cli-'));
  proxy = await startFaultProxy({ upstream: reg });
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('resolve asks the registry when the version is not given', () => {
  it('newest core release, skipping the pre-release, noise and what the flavor no longer is', async () => {
    const r = await cli(['resolve', 'opensuse', 'core']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${reg}/kairos/core-opensuse:v1.4.0\n`);
  });
  it('newest standard release with the newest k3s it publishes', async () => {
    expect((await cli(['resolve', 'opensuse', 'standard'])).stdout).toBe(`${reg}/kairos/kairos-opensuse:v1.5.0-k3sv1.26.1-k3s1\n`);
    expect((await cli(['resolve', 'opensuse', 'standard', '--version', 'v1.4.0'])).stdout).toBe(`${reg}/kairos/kairos-opensuse:v1.4.0-k3sv1.26.0-k3s1\n`);
    const d = json(await cli(['resolve', 'opensuse', 'standard', '--json']));
    expect(d).toMatchObject({ version: 'v1.5.0', k3s: 'v1.26.1+k3s1', discovered: true, era: 'v1' });
  });
  // issue 16: the catalog knows leap-15.6 from v3.1.0 (kairos@v3.1.0 .github/flavors.json), so the
  // newest opensuse-arm-rpi release in the fixtures is v3.4.2 (it was v2.4.3 while the pin stopped at 15.5).
  it('the v2.4.2+ naming in a family repository', async () => {
    expect((await cli(['resolve', 'opensuse-arm-rpi', 'core'])).stdout).toBe(`${reg}/kairos/opensuse:leap-15.6-core-arm64-rpi4-v3.4.2\n`);
    expect((await cli(['resolve', 'opensuse-arm-rpi', 'core', '--version', 'v2.4.3'])).stdout).toBe(`${reg}/kairos/opensuse:leap-15.5-core-arm64-rpi4-v2.4.3\n`);
  });
  it('no release on the registry: exit 1 naming where it looked', async () => {
    const r = await cli(['resolve', 'alpine-ubuntu', 'standard']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: no release of alpine-ubuntu standard found in /);
    expect(r.stderr).toContain(`${reg}/kairos/kairos-alpine-ubuntu`);
  });
  it('an unreachable registry is an operational error with the host named', async () => {
    const r = await cli(['resolve', 'opensuse', 'core'], {}, '127.0.0.1:1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach 127\.0\.0\.1:1/);
  });
});

describe('tags', () => {
  it('classifies and judges, newest first, noise hidden unless --all', async () => {
    const d = json<{ tags: Array<{ tag: string; class: string; status?: string; upgradeTo?: string }>; hidden: number }>(await cli(['tags', 'opensuse', 'core', '--json']));
    expect(d.tags.map((t) => t.tag)).toEqual(['v1.5.0-rc1', 'v1.4.0', 'v1.3.2']);
    expect(d.tags.map((t) => t.status)).toEqual(['prerelease', 'supported', 'unsupported-branch']);
    expect(d.tags[2]?.upgradeTo).toBe('v1.4.0');
    expect(d.hidden).toBeGreaterThanOrEqual(4);
    const all = json<{ tags: Array<{ tag: string; class: string }> }>(await cli(['tags', 'opensuse', 'core', '--all', '--json']));
    expect(all.tags.filter((t) => t.class === 'noise').map((t) => t.tag)).toEqual(expect.arrayContaining(['latest', 'master', '3f2a1c9']));
    expect(all.tags.some((t) => /^sha256-[a-f0-9]{64}\.sig$/.test(t.tag))).toBe(true);
  });
  it('standard: verdicts per k3s line', async () => {
    const d = json<{ tags: Array<{ tag: string; status?: string }> }>(await cli(['tags', 'opensuse', 'standard', '--json']));
    expect(Object.fromEntries(d.tags.map((t) => [t.tag, t.status]))).toEqual({
      'v1.5.0-k3sv1.26.1-k3s1': 'supported',
      'v1.5.0-k3sv1.25.6-k3s1': 'supported',
      'v1.5.0-k3sv1.26.0-k3s1': 'outdated-k3s',
      'v1.4.0-k3sv1.26.0-k3s1': 'unsupported-branch',
      'v1.4.0-k3sv1.25.5-k3s1': 'unsupported-branch',
    });
  });
  it('a repository with 130 tags lists them all', async () => {
    const d = json<{ tags: unknown[]; hidden: number }>(await cli(['tags', `${reg}/test/many-tags`, '--all', '--json']));
    expect(d.tags.length).toBe(130);
  });
  it('an unknown repository: exit 1', async () => {
    const r = await cli(['tags', `${reg}/kairos/nope`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: repository .*kairos\/nope does not exist/m);
  });
});

describe('pull', () => {
  it('a multi-arch index resolves to the requested platform', async () => {
    const index = fact('kairos/core-opensuse:v1.4.0');
    for (const arch of ['arm64', 'amd64']) {
      const d = json<{ digest: string; platform: string; indexDigest: string }>(await cli(['pull', 'opensuse', 'core', '--version', 'v1.4.0', '--arch', arch, '--json']));
      expect(d.platform).toMatch(new RegExp(`^linux/${arch}`));
      expect(d.digest).toBe(index.facts.instances?.find((i) => i.arch === arch)?.digest);
      expect(d.indexDigest).toBe(index.digest);
    }
  });
  it('an unknown tag names the closest tags', async () => {
    const r = await cli(['pull', `${reg}/kairos/core-opensuse:v1.4.1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: tag v1\.4\.1 not found in .*kairos\/core-opensuse/m);
    expect(r.stderr).toMatch(/^hint: closest tags: v1\.4\.0/m);
  });
  it('--to oci:DIR writes a layout that skopeo and umoci read (Docker schema 2 converted)', async () => {
    const dir = path.join(work, 'layout');
    const d = json<{ layout: { tag: string; converted: boolean; dir: string } }>(await cli(['pull', 'opensuse', 'standard', '--version', 'v1.5.0', '--k3s', 'v1.26.1+k3s1', '--to', `oci:${dir}`, '--json']));
    expect(d.layout.tag).toBe('v1.5.0-k3sv1.26.1-k3s1');
    expect(d.layout.converted).toBe(true);
    const { stdout } = await exec('skopeo', ['inspect', `oci:${dir}:v1.5.0-k3sv1.26.1-k3s1`]);
    expect((JSON.parse(stdout) as { Layers: unknown[] }).Layers).toHaveLength(3);
    const bundle = path.join(work, 'bundle');
    await exec('umoci', ['unpack', '--rootless', '--image', `${dir}:v1.5.0-k3sv1.26.1-k3s1`, bundle]);
    expect(await readFile(path.join(bundle, 'rootfs/etc/os-release'), 'utf8')).toMatch(/IMAGE_LABEL="v1\.5\.0-k3sv1\.26\.1-k3s1"/);
  });
  it('a second pull fetches no blob (requests counted at a proxy)', async () => {
    const cache = { KAIROS_IMG_CACHE: path.join(work, 'cache-proxy') };
    proxy.clearRequests();
    expect((await cli(['pull', 'opensuse', 'core', '--version', 'v1.3.2'], cache, proxy.address)).code).toBe(0);
    const firstBlobs = proxy.requests.filter((r) => r.path.includes('/blobs/')).length;
    expect(firstBlobs).toBe(3);
    proxy.clearRequests();
    const second = json<{ fetched: number; cached: number }>(await cli(['pull', 'opensuse', 'core', '--version', 'v1.3.2', '--json'], cache, proxy.address));
    expect(second.fetched).toBe(0);
    expect(proxy.requests.filter((r) => r.path.includes('/blobs/'))).toEqual([]);
  });
  it('--json progress stays off stdout; GITHUB_OUTPUT gets reference and digest', async () => {
    const out = path.join(work, 'gh-output');
    const r = await cli(['pull', 'opensuse', 'core', '--version', 'v1.3.2', '--json'], { GITHUB_OUTPUT: out });
    const d = json<{ reference: string; digest: string }>(r);
    const text = await readFile(out, 'utf8');
    expect(text).toContain(`reference=${d.reference}\n`);
    expect(text).toContain(`digest=${d.digest}\n`);
  });
  it('leaves no temporary files in the cache', async () => {
    const blobs = await readdir(path.join(work, 'cache', 'blobs', 'sha256'));
    expect(blobs.filter((b) => b.startsWith('.'))).toEqual([]);
  });
});
