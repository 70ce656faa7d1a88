// Today's Kairos against the real registry of scripts/test-env.sh (issue 16): the fixture
// repositories in the v3 and v4 naming (scripts/fixtures/seed.mjs todaysKairos: hadron, ubuntu
// 24.04/24.10 beside core-ubuntu v1.5.1, alpine 3.21; several flavor releases, arches, models, k3s
// minors, k0s, -img, -uki, rc, latest and .sig tags mixed together). resolve picks the newest per
// flavor release; tags and verify judge a flavor across its repositories; releases reads a release
// file or an image and plans the upgrade with its changelog links.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { testEnv } from '../helpers/env.js';
import { json, runCli, type CliRun } from '../helpers/cli.js';

const env = testEnv();
const reg = env.registry;
let work: string;

function cli(args: string[]): Promise<CliRun> {
  return runCli(['--registry', reg, '--plain-http', ...args], { env: { KAIROS_IMG_CACHE: path.join(work, 'cache') } });
}

async function out(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

interface Verdict { status: string; ok: boolean; reason: string; upgradeTo?: string; upgradeRepository?: string }
interface Report {
  current: { flavor: string; flavorRelease?: string; variant: string; arch?: string; model?: string; version?: string; k8s?: { distro: string; version?: string }; uki: boolean; reference?: string; verdict?: Verdict; repositories: string[] };
  candidates: Array<{ tag: string; reference: string; version: string; k8s?: string; verdict: Verdict; changelogs: string[] }>;
  plan?: { from?: string; reference: string; target: { tag: string; version: string }; releases: Array<{ version: string; changelogs: string[] }>; warnings: string[] };
}

const KR = (keys: Record<string, string>): string => `${Object.entries(keys).map(([k, v]) => `${k}="${v}"`).join('\n')}\n`;

async function releaseFile(name: string, keys: Record<string, string>): Promise<string> {
  const file = path.join(work, name);
  await writeFile(file, KR(keys));
  return file;
}

const UBUNTU_SYSTEM = {
  KAIROS_FLAVOR: 'ubuntu', KAIROS_FLAVOR_RELEASE: '24.04', KAIROS_VARIANT: 'core', KAIROS_MODEL: 'generic', KAIROS_TARGETARCH: 'amd64',
  KAIROS_RELEASE: 'v3.2.1', KAIROS_REGISTRY_AND_ORG: 'quay.io/kairos',
};

beforeAll(async () => {
  await seed({ registry: reg, set: 'test' });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-releases-'));
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('the fixture repositories in the v3 and v4 naming', () => {
  it('mix flavor releases, arches, models, k3s minors, k0s, -img, .sig, latest, UKI and rc tags', async () => {
    const d = json<{ tags: Array<{ tag: string; class: string }> }>(await cli(['tags', `${reg}/kairos/hadron`, '--all', '--json']));
    const tags = d.tags.map((t) => t.tag);
    expect(new Set(d.tags.map((t) => t.class))).toEqual(new Set(['release', 'prerelease', 'artifact', 'noise']));
    for (const part of ['v0.2.0-', 'v0.3.0-', 'v0.4.0-', '-arm64-', '-rpi4-', '-k3s-v1.32.', '-k3s-v1.33.', '-k3s-v1.34.', '-k0s-', '-uki', '-rc1', '-img']) {
      expect(tags.some((t) => t.includes(part)), part).toBe(true);
    }
    expect(tags).toContain('latest');
    expect(tags.some((t) => /^sha256-[0-9a-f]{64}\.sig$/.test(t))).toBe(true);
  });
});

describe('resolve: the newest release per flavor release, asking the registry', () => {
  it('hadron core: the newest Kairos release (UKI, rc, -img and arm64 tags skipped)', async () => {
    expect(await out(['resolve', 'hadron', 'core', '--arch', 'amd64'])).toBe(`${reg}/kairos/hadron:v0.4.0-core-amd64-generic-v4.1.2`);
  });
  it('--flavor-release picks the newest release of that Hadron', async () => {
    expect(await out(['resolve', 'hadron', 'core', '--arch', 'amd64', '--flavor-release', 'v0.2.0'])).toBe(`${reg}/kairos/hadron:v0.2.0-core-amd64-generic-v4.1.0`);
    expect(await out(['resolve', 'hadron', 'core', '--arch', 'amd64', '--flavor-release', 'v0.3.0'])).toBe(`${reg}/kairos/hadron:v0.3.0-core-amd64-generic-v4.1.1`);
  });
  it('a version without a flavor release asks the registry for it', async () => {
    const d = json<{ reference: string; flavorRelease: string; discovered: boolean }>(await cli(['resolve', 'hadron', 'core', '--arch', 'amd64', '--version', 'v4.1.0', '--json']));
    expect(d).toMatchObject({ reference: `${reg}/kairos/hadron:v0.2.0-core-amd64-generic-v4.1.0`, flavorRelease: 'v0.2.0', discovered: true });
  });
  it('standard: the newest k3s, or k0s with --k0s; boards and UKI on request', async () => {
    expect(await out(['resolve', 'hadron', 'standard', '--arch', 'amd64'])).toBe(`${reg}/kairos/hadron:v0.4.0-standard-amd64-generic-v4.1.2-k3s-v1.34.2-k3s1`);
    expect(await out(['resolve', 'hadron', 'standard', '--arch', 'amd64', '--k3s', 'v1.33.4+k3s1'])).toBe(`${reg}/kairos/hadron:v0.4.0-standard-amd64-generic-v4.1.2-k3s-v1.33.4-k3s1`);
    expect(await out(['resolve', 'hadron', 'standard', '--arch', 'amd64', '--k0s'])).toBe(`${reg}/kairos/hadron:v0.4.0-standard-amd64-generic-v4.1.2-k0s-v1.34.2-k0s.0`);
    expect(await out(['resolve', 'hadron', 'core', '--model', 'rpi4'])).toBe(`${reg}/kairos/hadron:v0.2.0-core-arm64-rpi4-v4.1.0`);
    expect(await out(['resolve', 'hadron', 'core', '--arch', 'amd64', '--uki'])).toBe(`${reg}/kairos/hadron:v0.4.0-core-amd64-generic-v4.1.2-uki`);
  });
  it('the rolling ubuntu takes the newest Ubuntu, ubuntu-24-lts its own', async () => {
    expect(await out(['resolve', 'ubuntu', 'core', '--arch', 'amd64'])).toBe(`${reg}/kairos/ubuntu:24.10-core-amd64-generic-v3.2.4`);
    expect(await out(['resolve', 'ubuntu-24-lts', 'core', '--arch', 'amd64'])).toBe(`${reg}/kairos/ubuntu:24.04-core-amd64-generic-v3.2.4`);
    expect(await out(['resolve', 'alpine', 'core', '--arch', 'amd64'])).toBe(`${reg}/kairos/alpine:3.21-core-amd64-generic-v3.5.0`);
  });
  it('the issue examples stay offline', async () => {
    expect(await out(['resolve', 'hadron', 'core', '--version', 'v4.1.0', '--flavor-release', 'v0.2.0', '--arch', 'amd64'])).toBe(`${reg}/kairos/hadron:v0.2.0-core-amd64-generic-v4.1.0`);
    expect(await out(['resolve', 'ubuntu', 'core', '--version', 'v3.2.1', '--flavor-release', '24.04', '--arch', 'amd64'])).toBe(`${reg}/kairos/ubuntu:24.04-core-amd64-generic-v3.2.1`);
  });
});

describe('the latest release branch is the flavor\'s, across every repository (issue 16)', () => {
  it('tags ubuntu core: core-ubuntu:v1.5.1 is on an unsupported branch, its target in the new repository', async () => {
    const d = json<{ repositories: string[]; tags: Array<{ repository: string; tag: string; status?: string; upgradeTo?: string; upgradeRepository?: string }> }>(await cli(['tags', 'ubuntu', 'core', '--arch', 'amd64', '--json']));
    expect(d.repositories).toEqual([`${reg}/kairos/ubuntu`, `${reg}/kairos/core-ubuntu`]);
    const old = d.tags.find((t) => t.tag === 'v1.5.1');
    expect(old).toMatchObject({ repository: `${reg}/kairos/core-ubuntu`, status: 'unsupported-branch', upgradeRepository: `${reg}/kairos/ubuntu`, upgradeTo: '24.10-core-amd64-generic-v3.2.4' });
    expect(d.tags.find((t) => t.tag === '24.04-core-amd64-generic-v3.2.1')?.status).toBe('outdated-patch');
    expect(d.tags.filter((t) => t.status === 'supported').map((t) => t.tag)).toEqual(['24.10-core-amd64-generic-v3.2.4', '24.04-core-amd64-generic-v3.2.4', '24.04-core-amd64-generic-v3.2.4-uki']);
    expect(d.tags.find((t) => t.tag === '24.04-core-amd64-generic-v3.3.0-rc1')?.status).toBe('prerelease');
  });
  it('the human listing says "use" for a pre-release newer than the newest release', async () => {
    const r = await cli(['tags', 'ubuntu', 'core', '--arch', 'amd64']);
    expect(r.stdout).toMatch(/24\.04-core-amd64-generic-v3\.3\.0-rc1 +prerelease +pre-release +use 24\.04-core-amd64-generic-v3\.2\.4$/m);
    expect(r.stdout).toMatch(new RegExp(`v1\\.5\\.1 +release +unsupported branch +upgrade to ${reg.replace(/\./g, '\\.')}/kairos/ubuntu:24\\.10-core-amd64-generic-v3\\.2\\.4$`, 'm'));
  });
  it('verify …/core-ubuntu:v1.5.1 fails: unsupported branch, upgrade target in the new repository', async () => {
    const r = await cli(['verify', `${reg}/kairos/core-ubuntu:v1.5.1`, '--json']);
    expect(r.code).toBe(3);
    const support = json<{ checks: Array<{ id: string; ok: boolean; message: string }> }>(r).checks.find((c) => c.id === 'support');
    expect(support).toMatchObject({ ok: false, message: expect.stringContaining(`only the latest release branch v3.2 is supported; upgrade to ${reg}/kairos/ubuntu:24.10-core-amd64-generic-v3.2.4`) });
  });
  it('k3s is judged within the flavor\'s release: an older k3s patch of a minor the release also ships is outdated', async () => {
    const d = json<{ tags: Array<{ tag: string; status?: string; upgradeTo?: string }> }>(await cli(['tags', 'hadron', 'standard', '--arch', 'amd64', '--json']));
    expect(d.tags.find((t) => t.tag === 'v0.4.0-standard-amd64-generic-v4.1.2-k3s-v1.33.4-k3s1')?.status).toBe('supported');
    expect(d.tags.find((t) => t.tag === 'v0.2.0-standard-amd64-generic-v4.1.0-k3s-v1.33.1-k3s1')).toMatchObject({ status: 'outdated-patch', upgradeTo: 'v0.4.0-standard-amd64-generic-v4.1.2-k3s-v1.33.4-k3s1' });
    expect(d.tags.find((t) => t.tag === 'v0.2.0-standard-amd64-generic-v4.1.0-k0s-v1.33.1-k0s.0')).toMatchObject({ status: 'outdated-patch', upgradeTo: 'v0.4.0-standard-amd64-generic-v4.1.2-k0s-v1.34.2-k0s.0' });
  });
});

describe('releases from a release file', () => {
  it('the candidates of one system: same line, newer, no -img/.sig/latest/UKI/rc; JSON shape of the issue', async () => {
    const file = await releaseFile('ubuntu-kairos-release', UBUNTU_SYSTEM);
    const r = await cli(['releases', '--release-file', file, '--json']);
    expect(r.code).toBe(0);
    const d = json<Report>(r);
    expect(d.current).toMatchObject({ flavor: 'ubuntu', flavorRelease: '24.04', variant: 'core', arch: 'amd64', model: 'generic', version: 'v3.2.1', uki: false, reference: `${reg}/kairos/ubuntu:24.04-core-amd64-generic-v3.2.1` });
    expect(d.current.verdict?.status).toBe('outdated-patch');
    expect(d.candidates).toEqual([{
      tag: '24.04-core-amd64-generic-v3.2.4', reference: `${reg}/kairos/ubuntu:24.04-core-amd64-generic-v3.2.4`, version: 'v3.2.4',
      verdict: { status: 'supported', ok: true, reason: 'v3.2.4 is the newest patch of the latest release branch v3.2' },
      changelogs: ['https://github.com/kairos-io/kairos/releases/tag/v3.2.4'],
    }]);
    expect(d.plan).toMatchObject({ from: 'v3.2.1', reference: `${reg}/kairos/ubuntu:24.04-core-amd64-generic-v3.2.4`, warnings: [] });
  });
  it('--pre adds the release candidate; a UKI system sees only UKI images', async () => {
    const file = await releaseFile('ubuntu-pre', UBUNTU_SYSTEM);
    expect(json<Report>(await cli(['releases', '--release-file', file, '--pre', '--json'])).candidates.map((c) => c.tag)).toEqual(['24.04-core-amd64-generic-v3.3.0-rc1', '24.04-core-amd64-generic-v3.2.4']);
    const uki = await releaseFile('ubuntu-uki', { ...UBUNTU_SYSTEM, KAIROS_TRUSTED_BOOT: 'true' });
    expect(json<Report>(await cli(['releases', '--release-file', uki, '--json'])).candidates.map((c) => c.tag)).toEqual(['24.04-core-amd64-generic-v3.2.4-uki']);
  });
  it('a Hadron system moves to newer Hadron releases; the plan links every release it crosses', async () => {
    const file = await releaseFile('hadron', {
      KAIROS_FLAVOR: 'hadron', KAIROS_FLAVOR_RELEASE: 'v0.2.0', KAIROS_VARIANT: 'standard', KAIROS_MODEL: 'generic', KAIROS_TARGETARCH: 'amd64',
      KAIROS_RELEASE: 'v4.1.0', KAIROS_SOFTWARE_VERSION: 'v1.33.1+k3s1', KAIROS_SOFTWARE_VERSION_PREFIX: 'k3s',
    });
    const d = json<Report>(await cli(['releases', '--release-file', file, '--json']));
    expect(d.candidates.map((c) => c.tag)).toEqual(['v0.4.0-standard-amd64-generic-v4.1.2-k3s-v1.34.2-k3s1', 'v0.4.0-standard-amd64-generic-v4.1.2-k3s-v1.33.4-k3s1']);
    expect(d.plan?.target.tag).toBe('v0.4.0-standard-amd64-generic-v4.1.2-k3s-v1.33.4-k3s1');
    expect(d.plan?.releases).toEqual([
      { version: 'v4.1.1', changelogs: ['https://github.com/kairos-io/kairos/releases/tag/v4.1.1'] },
      { version: 'v4.1.2', changelogs: ['https://github.com/kairos-io/kairos/releases/tag/v4.1.2'] },
    ]);
  });
  it('a file without the keys it needs: exit 2 naming them', async () => {
    const file = await releaseFile('incomplete', { KAIROS_FLAVOR: 'ubuntu', KAIROS_VARIANT: 'core' });
    const r = await cli(['releases', '--release-file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lacks KAIROS_FLAVOR_RELEASE, KAIROS_MODEL, KAIROS_TARGETARCH, KAIROS_RELEASE');
    expect(r.stdout).toBe('');
  });
});

describe('releases from an image', () => {
  it('reads the release keys from the image\'s top layers; k0s images are not candidates of a k3s system', async () => {
    const d = json<Report>(await cli(['releases', '--image', `${reg}/kairos/hadron:v0.2.0-standard-amd64-generic-v4.1.0-k3s-v1.33.1-k3s1`, '--json']));
    expect(d.current).toMatchObject({ flavor: 'hadron', flavorRelease: 'v0.2.0', variant: 'standard', version: 'v4.1.0', k8s: { distro: 'k3s', version: 'v1.33.1+k3s1' } });
    expect(d.candidates.every((c) => c.k8s?.endsWith('+k3s1') === true && !c.tag.endsWith('-img') && !c.tag.includes('-rc'))).toBe(true);
    expect(d.candidates).toHaveLength(2);
  });
  it('an older system (v1 naming): candidates in the new repository, the major-release warning of the seed', async () => {
    const r = await cli(['releases', '--image', `${reg}/kairos/core-ubuntu:v1.5.1`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Upgrade plan: v1.5.1 → ${reg}/kairos/ubuntu:24.10-core-amd64-generic-v3.2.4`);
    expect(r.stdout).toContain('warning: v1.5.1 → v3.2.4 crosses a major release (v1 → v3): in-place upgrade from old to new major release branch is not always guaranteed');
    expect(r.stdout).toContain(`warning: the image moves from ${reg}/kairos/core-ubuntu to ${reg}/kairos/ubuntu`);
  });
  it('standard images of the provider era link provider-kairos', async () => {
    const d = json<Report>(await cli(['releases', 'opensuse', 'standard', '--version', 'v1.4.0', '--k3s', 'v1.26.0+k3s1', '--json']));
    expect(d.plan?.target.tag).toBe('v1.5.0-k3sv1.26.1-k3s1');
    expect(d.plan?.releases).toEqual([{ version: 'v1.5.0', changelogs: ['https://github.com/kairos-io/provider-kairos/releases/tag/v1.5.0'] }]);
  });
});
