import { describe, expect, it } from 'vitest';
import { MAJOR_UPGRADE_WARNING, readSystemRelease, upgradeCandidates, upgradePlan, type SystemRelease } from '../../../src/policy/upgrade.js';
import { evaluateFlavor, evaluateFlavorTag, type TagEntry } from '../../../src/policy/rules.js';
import { loadCatalog } from '../../../src/catalog/kairos/load.js';
import { changelogUrls } from '../../../src/catalog/kairos/changelogs.js';

const catalog = await loadCatalog('kairos');

/** /etc/kairos-release of a kairos-init (v3.4+) standard system. */
const KAIROS_INIT = `KAIROS_ID="kairos"
KAIROS_NAME="kairos-standard-ubuntu-24.04"
KAIROS_VERSION="v3.5.0"
KAIROS_ARCH="amd64"
KAIROS_TARGETARCH="amd64"
KAIROS_FLAVOR="ubuntu"
KAIROS_FLAVOR_RELEASE="24.04"
KAIROS_FAMILY="ubuntu"
KAIROS_MODEL="generic"
KAIROS_VARIANT="standard"
KAIROS_RELEASE="v3.5.0"
KAIROS_SOFTWARE_VERSION="v1.32.3+k3s1"
KAIROS_SOFTWARE_VERSION_PREFIX="k3s"
KAIROS_TRUSTED_BOOT="false"
`;

const R = 'quay.io/kairos/ubuntu';
const e = (tag: string, repository = R): TagEntry => ({ repository, tag });

describe('readSystemRelease', () => {
  it('reads a kairos-init release file', () => {
    const r = readSystemRelease(KAIROS_INIT, '/etc/kairos-release');
    expect(r).toMatchObject({ ok: true, system: { flavor: 'ubuntu', flavorRelease: '24.04', variant: 'standard', model: 'generic', arch: 'amd64', version: 'v3.5.0', k8s: { distro: 'k3s', version: 'v1.32.3+k3s1' }, uki: false, naming: 'flavor-release' } });
  });
  it('reads k0s and trusted boot', () => {
    const r = readSystemRelease(KAIROS_INIT.replace('v1.32.3+k3s1', 'v1.32.3+k0s.0').replace('PREFIX="k3s"', 'PREFIX="k0s"').replace('BOOT="false"', 'BOOT="true"'), 'f');
    expect(r).toMatchObject({ ok: true, system: { k8s: { distro: 'k0s', version: 'v1.32.3+k0s.0' }, uki: true } });
  });
  it('names the keys a file lacks', () => {
    const r = readSystemRelease('KAIROS_FLAVOR="ubuntu"\nKAIROS_VARIANT="core"\n', 'x');
    expect(r).toEqual({ ok: false, missing: ['KAIROS_FLAVOR_RELEASE', 'KAIROS_MODEL', 'KAIROS_TARGETARCH', 'KAIROS_RELEASE'], source: 'x' });
    expect(readSystemRelease('NAME=Ubuntu\nID=ubuntu\n', 'y')).toMatchObject({ ok: false, missing: expect.arrayContaining(['KAIROS_FLAVOR']) });
    expect(readSystemRelease(KAIROS_INIT.replace(/KAIROS_SOFTWARE_VERSION=.*\n/, ''), 'z')).toMatchObject({ ok: false, missing: ['KAIROS_SOFTWARE_VERSION'] });
  });
  it('reads older systems from their os-release keys (v2.0.1 – v2.4 prefixed, v1 unprefixed)', () => {
    const v2 = readSystemRelease('NAME=Ubuntu\nKAIROS_FLAVOR="ubuntu-22-lts"\nKAIROS_VARIANT="core"\nKAIROS_VERSION="v2.3.0"\nKAIROS_IMAGE_REPO="quay.io/kairos/core-ubuntu-22-lts"\nKAIROS_IMAGE_LABEL="v2.3.0"\n', '/etc/os-release');
    expect(v2).toMatchObject({ ok: true, system: { flavor: 'ubuntu-22-lts', variant: 'core', version: 'v2.3.0', naming: 'version-first', image: 'quay.io/kairos/core-ubuntu-22-lts:v2.3.0' } });
    const v1 = readSystemRelease('ID="kairos"\nFLAVOR="opensuse"\nVARIANT="standard"\nVERSION="v1.5.1-k3sv1.26.1+k3s1"\nIMAGE_REPO="quay.io/kairos/kairos-opensuse"\nIMAGE_LABEL="v1.5.1-k3sv1.26.1-k3s1"\n', '/etc/os-release');
    expect(v1).toMatchObject({ ok: true, system: { flavor: 'opensuse', version: 'v1.5.1', k8s: { distro: 'k3s', version: 'v1.26.1+k3s1' } } });
  });
});

const TAGS = [
  '24.04-standard-amd64-generic-v3.5.0-k3s-v1.32.3-k3s1',
  '24.04-standard-amd64-generic-v3.5.1-k3s-v1.32.3-k3s1',
  '24.04-standard-amd64-generic-v3.5.1-k3s-v1.33.1-k3s1',
  '24.04-standard-amd64-generic-v3.6.0-rc1-k3s-v1.33.1-k3s1',
  '24.04-standard-amd64-generic-v3.6.0-k3s-v1.32.3-k3s1',
  '24.04-standard-amd64-generic-v3.6.0-k3s-v1.33.1-k3s1',
  '24.04-standard-amd64-generic-v3.6.0-k3s-v1.33.1-k3s1-uki',
  '24.04-standard-amd64-generic-v3.6.0-k0s-v1.33.1-k0s.0',
  '24.04-standard-arm64-generic-v3.6.0-k3s-v1.33.1-k3s1',
  '24.04-standard-amd64-rpi4-v3.6.0-k3s-v1.33.1-k3s1',
  '25.10-standard-amd64-generic-v3.6.0-k3s-v1.33.1-k3s1',
  '24.04-core-amd64-generic-v3.6.0',
  '24.04-standard-amd64-generic-v3.6.0-k3s-v1.33.1-k3s1-img',
  `sha256-${'a'.repeat(64)}.sig`,
  `sha256-${'a'.repeat(64)}.att`,
  'latest',
  '24.04-standard-amd64-generic-v4.0.0-k3s-v1.34.1-k3s1',
].map((t) => e(t));

function system(): SystemRelease {
  const r = readSystemRelease(KAIROS_INIT, '/etc/kairos-release');
  if (!r.ok) throw new Error('fixture');
  return r.system;
}

describe('upgradeCandidates', () => {
  it('only the system\'s line, newer, no noise, artifacts, UKI, other distributions or pre-releases; newest first', () => {
    const c = upgradeCandidates(system(), TAGS);
    expect(c.map((x) => x.tag.raw)).toEqual([
      '24.04-standard-amd64-generic-v4.0.0-k3s-v1.34.1-k3s1',
      '24.04-standard-amd64-generic-v3.6.0-k3s-v1.33.1-k3s1',
      '24.04-standard-amd64-generic-v3.6.0-k3s-v1.32.3-k3s1',
      '24.04-standard-amd64-generic-v3.5.1-k3s-v1.33.1-k3s1',
      '24.04-standard-amd64-generic-v3.5.1-k3s-v1.32.3-k3s1',
    ]);
    expect(c[0]?.verdict.status).toBe('supported');
    expect(c[1]?.verdict).toMatchObject({ status: 'unsupported-branch', upgradeTo: '24.04-standard-amd64-generic-v4.0.0-k3s-v1.34.1-k3s1' });
  });
  it('--pre adds pre-releases; a UKI system sees only UKI images', () => {
    expect(upgradeCandidates(system(), TAGS, { pre: true }).map((x) => x.tag.raw)).toContain('24.04-standard-amd64-generic-v3.6.0-rc1-k3s-v1.33.1-k3s1');
    expect(upgradeCandidates({ ...system(), uki: true }, TAGS).map((x) => x.tag.raw)).toEqual(['24.04-standard-amd64-generic-v3.6.0-k3s-v1.33.1-k3s1-uki']);
    expect(upgradeCandidates({ ...system(), k8s: { distro: 'k0s', version: 'v1.32.3+k0s.0' } }, TAGS).map((x) => x.tag.raw)).toEqual(['24.04-standard-amd64-generic-v3.6.0-k0s-v1.33.1-k0s.0']);
  });
  it('the same release with a newer Kubernetes version is a candidate', () => {
    const s = { ...system(), version: 'v3.5.1', k8s: { distro: 'k3s', version: 'v1.32.3+k3s1' } };
    expect(upgradeCandidates(s, TAGS).map((x) => x.tag.raw)).toContain('24.04-standard-amd64-generic-v3.5.1-k3s-v1.33.1-k3s1');
  });
});

describe('upgradePlan', () => {
  const changelogs = (v: string): string[] => changelogUrls(catalog, 'standard', v);
  it('crosses every release up to the target, each with its changelog; warns on a major bump', () => {
    const s = system();
    const target = upgradeCandidates(s, TAGS)[0];
    if (target === undefined) throw new Error('no target');
    const plan = upgradePlan({ system: s, target, entries: TAGS, changelogs });
    expect(plan.releases.map((r) => r.version)).toEqual(['v3.5.1', 'v3.6.0', 'v4.0.0']);
    expect(plan.releases[0]?.changelogs).toEqual(['https://github.com/kairos-io/kairos/releases/tag/v3.5.1']);
    expect(plan.warnings).toEqual([expect.stringContaining(MAJOR_UPGRADE_WARNING), 'Kubernetes 1.32 → 1.34 skips minors; Kubernetes upgrades one minor at a time']);
  });
  it('standard releases of the provider era link provider-kairos', () => {
    expect(changelogUrls(catalog, 'standard', 'v1.5.1')).toEqual(['https://github.com/kairos-io/provider-kairos/releases/tag/v1.5.1']);
    expect(changelogUrls(catalog, 'core', 'v1.5.1')).toEqual(['https://github.com/kairos-io/kairos/releases/tag/v1.5.1']);
    expect(changelogUrls(catalog, 'standard', 'v2.4.0')).toEqual(['https://github.com/kairos-io/kairos/releases/tag/v2.4.0']);
  });
  it('warns when the target is not supported or moves to another repository', () => {
    const s = system();
    const target = upgradeCandidates(s, TAGS).find((c) => c.tag.version === 'v3.6.0');
    if (target === undefined) throw new Error('no target');
    const plan = upgradePlan({ system: s, target, entries: TAGS, changelogs, currentRepository: 'quay.io/kairos/kairos-ubuntu' });
    expect(plan.warnings).toEqual([expect.stringMatching(/^the target is not supported: v3\.6\.0 is on release branch v3\.6/), expect.stringContaining('moves from quay.io/kairos/kairos-ubuntu to quay.io/kairos/ubuntu')]);
  });
});

describe('the latest release branch is the flavor\'s, across its repositories (issue 16)', () => {
  const entries: TagEntry[] = [
    e('v1.5.1', 'quay.io/kairos/core-ubuntu'),
    e('v1.5.0', 'quay.io/kairos/core-ubuntu'),
    e('24.04-core-amd64-generic-v3.2.1'),
    e('24.04-core-arm64-generic-v3.2.1'),
    e('24.04-core-amd64-generic-v3.2.0'),
  ];
  it('core-ubuntu:v1.5.1 is on an unsupported branch; its target is in the new repository', () => {
    const v = evaluateFlavorTag({ repository: 'quay.io/kairos/core-ubuntu', tag: 'v1.5.1', entries, options: { arch: 'amd64', model: 'generic' } });
    expect(v).toMatchObject({ status: 'unsupported-branch', upgradeTo: '24.04-core-amd64-generic-v3.2.1', upgradeRepository: 'quay.io/kairos/ubuntu' });
    expect(v.reason).toContain('only the latest release branch v3.2 is supported; upgrade to quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.2.1');
  });
  it('a tags listing of both repositories has one supported release', () => {
    const rows = evaluateFlavor(entries, { arch: 'amd64', model: 'generic' });
    expect(rows.filter((r) => r.verdict?.ok === true).map((r) => `${r.repository}:${r.tag}`)).toEqual([
      'quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.2.1', 'quay.io/kairos/ubuntu:24.04-core-arm64-generic-v3.2.1',
    ]);
  });
  it('a pre-release newer than the newest release is told to use it', () => {
    const v = evaluateFlavorTag({ repository: R, tag: '24.04-core-amd64-generic-v3.3.0-rc1', entries: [...entries, e('24.04-core-amd64-generic-v3.3.0-rc1')] });
    expect(v.reason).toMatch(/; use 24\.04-core-amd64-generic-v3\.2\.1$/);
  });
  it('k3s is judged within the flavor\'s release across repositories', () => {
    const std = [e('v1.5.1-k3sv1.26.1-k3s1', 'quay.io/kairos/kairos-ubuntu'), e('24.04-standard-amd64-generic-v3.2.1-k3sv1.31.1-k3s1'), e('24.04-standard-amd64-generic-v3.2.1-k3sv1.31.2-k3s1')];
    expect(evaluateFlavorTag({ repository: R, tag: '24.04-standard-amd64-generic-v3.2.1-k3sv1.31.1-k3s1', entries: std })).toMatchObject({ status: 'outdated-k3s', upgradeTo: '24.04-standard-amd64-generic-v3.2.1-k3sv1.31.2-k3s1' });
    expect(evaluateFlavorTag({ repository: 'quay.io/kairos/kairos-ubuntu', tag: 'v1.5.1-k3sv1.26.1-k3s1', entries: std, options: { arch: 'amd64', model: 'generic' } })).toMatchObject({ status: 'unsupported-branch', upgradeRepository: R });
  });
});
