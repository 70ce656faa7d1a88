// `kairos-img verify` against the real registry of scripts/test-env.sh: the seeded Kairos-shaped
// fixtures for each verdict and exit code, and a large image of which only the top layer is read
// (counted by the client and at the fault proxy).
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { buildImage, pushImage, withParents } from '../../scripts/fixtures/image-builder.mjs';
import { kairosReleaseEntries, upstreamEntries, upstreamOsRelease } from '../../scripts/fixtures/kairos-shapes.mjs';
import { testEnv } from '../helpers/env.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { json, runCli, type CliRun } from '../helpers/cli.js';

const env = testEnv();
const reg = env.registry;
let work: string;
let proxy: FaultProxy;

interface Report {
  reference: string;
  digest: string;
  ok: boolean;
  checks: Array<{ id: string; ok: boolean | 'skipped'; message: string; info?: boolean }>;
  read?: { bytesRead: number; bytesTotal: number; layersRead: number; layersTotal: number };
  platform?: string;
}

function cli(args: string[], extra: NodeJS.ProcessEnv = {}, registry = reg): Promise<CliRun> {
  return runCli(['--registry', registry, '--plain-http', ...args], { env: { KAIROS_IMG_CACHE: path.join(work, 'cache'), ...extra } });
}

async function verify(ref: string, ...args: string[]): Promise<{ run: CliRun; report: Report; check: (id: string) => Report['checks'][number] }> {
  const run = await cli(['verify', `${reg}/${ref}`, '--json', ...args]);
  const report = json<Report>(run);
  const check = (id: string): Report['checks'][number] => {
    const c = report.checks.find((x) => x.id === id);
    if (c === undefined) throw new Error(`no ${id} check in ${JSON.stringify(report)}`);
    return c;
  };
  return { run, report, check };
}

/** 20 MiB of incompressible, reproducible bytes (the same blob on every run: the registry dedups it). */
function bigPayload(size = 20 * 1024 * 1024): Buffer {
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update('kairos-img verify big layer').digest(), Buffer.alloc(16));
  return cipher.update(Buffer.alloc(size));
}

const BIG_REPO = 'verify-big/core-ubuntu-22-lts';
let bigLayerDigest: string;
let topLayerDigest: string;

beforeAll(async () => {
  await seed({ registry: reg, set: 'test' });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-verify-'));
  proxy = await startFaultProxy({ upstream: reg });
  // Bottom: the distribution and a big file; top: every release file verify needs.
  const spec = { repository: BIG_REPO, tag: 'v2.3.0', version: 'v2.3.0', flavor: 'ubuntu-22-lts', variant: 'core' as const, upstream: 'ubuntu-22.04' as const };
  const dir = path.join(work, 'big-layout');
  const built = await buildImage({
    dir,
    tag: 'v2.3.0',
    arch: 'amd64',
    layers: [
      { compression: 'gzip', level: 1, entries: [...upstreamEntries('ubuntu-22.04'), ...withParents([{ path: '/usr/share/big.bin', type: 'file', content: bigPayload() }])] },
      { compression: 'gzip', entries: withParents([...kairosReleaseEntries(spec), { path: '/usr/lib/os-release', type: 'file', content: upstreamOsRelease('ubuntu-22.04') }]) },
    ],
  });
  bigLayerDigest = built.layers[0]?.digest ?? '';
  topLayerDigest = built.layers[1]?.digest ?? '';
  await pushImage({ layoutDir: dir, tag: 'v2.3.0', dest: `${reg}/${BIG_REPO}:v2.3.0`, plainHttp: true });
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('verify: verdicts and exit codes', () => {
  it('a supported, consistent image passes every check: exit 0', async () => {
    const { run, report } = await verify('kairos/ubuntu:22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1');
    expect(run.code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.id, c.ok])).toEqual([
      ['tag-grammar', true], ['support', true], ['kairos-release', true], ['upstream-pin', true], ['arch', true], ['signatures', true],
    ]);
    expect(report.checks.find((c) => c.id === 'signatures')?.info).toBe(true);
    expect(report.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  // issue 16: judged across the flavor's repositories, v2.3.0 is on an unsupported branch now that
  // opensuse-arm-rpi's v3.4.2 (kairos/opensuse:leap-15.6-core-arm64-rpi4-v3.4.2) is published; the
  // other lines are as before.
  it('prints one ✓/✗/−/i line per check with its reason', async () => {
    const run = await cli(['verify', `${reg}/kairos/core-opensuse-arm-rpi:v2.3.0`]);
    expect(run.code).toBe(3);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${reg}/kairos/core-opensuse-arm-rpi:v2.3.0`);
    expect(lines).toContainEqual(expect.stringMatching(/^✓ upstream-pin +opensuse-leap 15\.5 \(\/usr\/lib\/os-release\) matches the pin/));
    expect(lines).toContainEqual(expect.stringMatching(/^✓ arch +arm64 \(config\) matches flavor opensuse-arm-rpi \(arm64\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^i signatures +no cosign signature/));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^✗ support +unsupported branch: v2\\.3\\.0 is on release branch v2\\.3; only the latest release branch v3\\.4 is supported; upgrade to ${reg.replace(/\./g, '\\.')}/kairos/opensuse:leap-15\\.6-core-arm64-rpi4-v3\\.4\\.2$`)));
    expect(lines.at(-1)).toBe('1 check failed');
    const skipped = await cli(['verify', `${reg}/kairos/core-alpine-arm-rpi:v1.5.0`]);
    expect(skipped.stdout).toMatch(/^− upstream-pin +alpine-arm-rpi is unpinned at v1\.5\.0: it tracks upstream alpine; the image has alpine 3\.17\.1$/m);
  });

  it('an old patch: exit 3, naming the upgrade', async () => {
    const { run, report, check } = await verify('kairos/core-ubuntu-22-lts:v2.3.0');
    expect(run.code).toBe(3);
    expect(report.ok).toBe(false);
    expect(check('support')).toMatchObject({ ok: false, message: expect.stringMatching(/^outdated patch: .*upgrade to v2\.3\.1$/) });
    expect(check('kairos-release').ok).toBe(true);
    expect(check('upstream-pin').ok).toBe(true);
  });

  it('an old release branch: exit 3', async () => {
    const { run, check } = await verify('kairos/core-opensuse:v1.3.2');
    expect(run.code).toBe(3);
    expect(check('support')).toMatchObject({ ok: false, message: expect.stringMatching(/^unsupported branch: v1\.3\.2 is on release branch v1\.3; only the latest release branch v1\.\d+ is supported/) });
    expect(check('kairos-release').ok).toBe(true);
  });

  it('a pre-release: exit 3', async () => {
    const { run, check } = await verify('kairos/core-opensuse:v1.5.0-rc1');
    expect(run.code).toBe(3);
    expect(check('support')).toMatchObject({ ok: false, message: expect.stringMatching(/^pre-release: v1\.5\.0-rc1 is a pre-release/) });
    expect(check('tag-grammar').ok).toBe(true);
  });

  it('a standard image with an older k3s patch than its release publishes for that minor: exit 3', async () => {
    const { run, check } = await verify('kairos/kairos-opensuse:v1.5.0-k3sv1.26.0-k3s1');
    expect(run.code).toBe(3);
    expect(check('support')).toMatchObject({
      ok: false,
      message: 'outdated k3s: k3s v1.26.0+k3s1 is older than v1.26.1+k3s1, which v1.5.0 also publishes for k3s 1.26; upgrade to v1.5.0-k3sv1.26.1-k3s1',
    });
    expect(check('kairos-release').ok).toBe(true);
    // The newest k3s of that minor is supported.
    expect((await verify('kairos/kairos-opensuse:v1.5.0-k3sv1.26.1-k3s1')).run.code).toBe(0);
  });

  it('an upstream release that contradicts the flavor pin: exit 3 (kairos/core-opensuse-leap:v2.3.0)', async () => {
    const { run, check } = await verify('kairos/core-opensuse-leap:v2.3.0');
    expect(run.code).toBe(3);
    expect(check('upstream-pin')).toEqual({ id: 'upstream-pin', ok: false, message: '/usr/lib/os-release: opensuse-leap 15.4, but opensuse-leap v2.3.0 is pinned to opensuse-leap 15.5' });
    expect(check('support').ok).toBe(true);
    expect(check('kairos-release').ok).toBe(true);
  });

  it('a Kairos version that contradicts the tag: exit 3 (kairos/core-ubuntu-22-lts:v2.3.1)', async () => {
    const { run, check } = await verify('kairos/core-ubuntu-22-lts:v2.3.1');
    expect(run.code).toBe(3);
    expect(check('kairos-release')).toEqual({ id: 'kairos-release', ok: false, message: '/etc/os-release: KAIROS_VERSION="v2.3.0" says v2.3.0, the tag v2.3.1' });
    expect(check('support').ok).toBe(true);
    expect(check('upstream-pin').ok).toBe(true);
  });

  it('names an image by flavor and variant, from the catalog and the registry', async () => {
    const named = await cli(['verify', 'ubuntu-22-lts', 'core', '--version', 'v2.3.1', '--json']);
    expect(named.code).toBe(3);
    expect(json<Report>(named)).toMatchObject({ reference: `${reg}/kairos/core-ubuntu-22-lts:v2.3.1`, ok: false });
    // No --version: the newest release on the registry (v2.3.0, whose upstream contradicts the pin).
    const newest = await cli(['verify', 'opensuse-leap', 'core', '--json']);
    expect(json<Report>(newest)).toMatchObject({ reference: `${reg}/kairos/core-opensuse-leap:v2.3.0`, ok: false });
    expect(newest.code).toBe(3);
  });

  it('a multi-arch index: the digest is the index digest, its cosign signature is reported, --arch picks the image', async () => {
    const { report, check } = await verify('kairos/core-opensuse:v1.4.0', '--arch', 'arm64');
    const index = (await seed({ registry: reg, set: 'demo', log: () => undefined })).find((i) => i.repository === 'kairos/core-opensuse' && i.tag === 'v1.4.0');
    expect(report.digest).toBe(index?.digest);
    expect(report.platform).toBe('linux/arm64/v8');
    expect(check('arch')).toMatchObject({ ok: true, message: expect.stringMatching(/^arm64 \(config\) matches --arch and flavor opensuse/) });
    expect(check('signatures')).toMatchObject({ ok: true, info: true, message: expect.stringMatching(/^signature \(sha256-[0-9a-f]{12}….sig\); missing: SBOM, attestation$/) });
  });

  it('a tag that is no Kairos release: exit 3, image checks skipped', async () => {
    const { run, check } = await verify('kairos/core-opensuse:master');
    expect(run.code).toBe(3);
    expect(check('tag-grammar')).toMatchObject({ ok: false, message: '"master" is a branch tag, not a Kairos release' });
    expect(check('kairos-release').ok).toBe('skipped');
  });

  it('writes the step outputs reference, digest and ok', async () => {
    const out = path.join(work, 'github-output');
    const run = await cli(['verify', `${reg}/kairos/core-ubuntu-22-lts:v2.3.1`], { GITHUB_OUTPUT: out });
    expect(run.code).toBe(3);
    const text = await readFile(out, 'utf8');
    expect(text).toMatch(new RegExp(`^reference=${reg}/kairos/core-ubuntu-22-lts:v2\\.3\\.1$`, 'm'));
    expect(text).toMatch(/^digest=sha256:[0-9a-f]{64}$/m);
    expect(text).toMatch(/^ok=false$/m);
  });
});

describe('verify --offline', () => {
  // A closed port: any network access would fail with exit 1.
  const nowhere = '127.0.0.1:1';
  it('checks only the grammar: exit 3 for an invalid tag', async () => {
    const run = await cli(['verify', `${nowhere}/kairos/core-opensuse:v1.4`, '--offline'], {}, nowhere);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe(`${nowhere}/kairos/core-opensuse:v1.4\n✗ tag-grammar  "v1.4" is not MAJOR.MINOR.PATCH\n1 check failed\n`);
    const naming = await cli(['verify', `${nowhere}/kairos/ubuntu:v2.5.0`, '--offline', '--json'], {}, nowhere);
    expect(json<Report>(naming)).toMatchObject({ ok: false, checks: [{ id: 'tag-grammar', ok: false, message: expect.stringMatching(/from v2\.4\.2 Kairos tags start with/) }] });
  });

  it('exit 0 for a valid tag, without touching the network; by flavor it needs --version', async () => {
    const run = await cli(['verify', `${nowhere}/kairos/core-opensuse:v1.4.0`, '--offline', '--json'], {}, nowhere);
    expect(run.code).toBe(0);
    expect(json<Report>(run)).toEqual({ reference: `${nowhere}/kairos/core-opensuse:v1.4.0`, flavors: [], ok: true, checks: [{ id: 'tag-grammar', ok: true, message: expect.any(String) }] });
    const named = await cli(['verify', 'ubuntu-22-lts', 'standard', '--version', 'v2.3.0', '--k3s', 'v1.27.3+k3s1', '--offline', '--json'], {}, nowhere);
    expect(named.code).toBe(0);
    expect(json<Report>(named).reference).toBe(`${nowhere}/kairos/kairos-ubuntu-22-lts:v2.3.0-k3sv1.27.3-k3s1`);
    const missing = await cli(['verify', 'ubuntu-22-lts', 'core', '--offline'], {}, nowhere);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--offline needs --version/);
  });
});

describe('verify: usage and operational errors', () => {
  it('exit 2 on usage errors', async () => {
    expect((await cli(['verify'])).code).toBe(2);
    const r = await cli(['verify', `${reg}/kairos/core-opensuse:v1.4.0`, '--version', 'v1.4.0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--version applies to <flavor> <variant>/);
    expect((await cli(['verify', 'nosuch-flavor', 'core', '--version', 'v1.4.0'])).code).toBe(2);
  });

  it('exit 1 when the image does not exist', async () => {
    const r = await cli(['verify', `${reg}/kairos/core-opensuse:v9.9.9`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });
});

describe('verify reads only the top layers it needs', () => {
  it('a 20 MiB bottom layer is never requested when the top layer holds every release file', async () => {
    proxy.clearRequests();
    const run = await cli(['verify', `${proxy.address}/${BIG_REPO}:v2.3.0`, '--json'], {}, proxy.address);
    const report = json<Report>(run);
    expect(run.code).toBe(0);
    expect(report.checks.map((c) => [c.id, c.ok])).toEqual([
      ['tag-grammar', true], ['support', true], ['kairos-release', true], ['upstream-pin', true], ['arch', true], ['signatures', true],
    ]);
    expect(report.read?.layersRead).toBe(1);
    expect(report.read?.layersTotal).toBe(2);
    expect(report.read?.bytesTotal).toBeGreaterThan(20 * 1024 * 1024);
    expect(report.read?.bytesRead).toBeLessThan(64 * 1024);
    const blobGets = proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/'));
    expect(blobGets.some((r) => r.path.endsWith(topLayerDigest))).toBe(true);
    expect(blobGets.filter((r) => r.path.endsWith(bigLayerDigest))).toEqual([]);
  });
});
