import { describe, expect, it } from 'vitest';
import { evaluateAll, evaluateTag, indexTags, type Verdict } from '../../../src/policy/rules.js';

const SIG = `sha256-${'c'.repeat(64)}.sig`;
const SBOM = `sha256-${'c'.repeat(64)}.sbom`;

/** Seven k3s minors, as provider-kairos v1.5.x shipped them. */
const SEVEN = ['v1.20.15-k3s1', 'v1.21.14-k3s1', 'v1.22.17-k3s1', 'v1.23.16-k3s1', 'v1.24.10-k3s1', 'v1.25.6-k3s1', 'v1.26.1-k3s1'];

/** A version-first standard repository (like quay.io/kairos/kairos-opensuse). */
const PROVIDER = [
  'latest',
  'master',
  SIG,
  SBOM,
  '3f9c2ab',
  ...['v1.19.16-k3s1', 'v1.24.6-k3s1', 'v1.25.2-k3s1'].map((k) => `v1.4.0-k3s${k}`),
  ...SEVEN.map((k) => `v1.5.0-k3s${k}`),
  ...SEVEN.map((k) => `v1.5.1-k3s${k}`),
  'v1.5.1-k3sv1.25.5-k3s1', // an older k3s patch of a minor v1.5.1 also publishes newer
  'v1.5.1-k3sv1.23.16-k3s2', // a k3s rebuild: k3s2 supersedes k3s1
  'v1.5.0-k3sv1.26.1-k3s1.img',
  'v1.5.1-k3sv1.26.1-k3s1.img',
  'v1.6.0-rc1-k3sv1.26.1-k3s1', // branch v1.6 has only a pre-release: not the latest branch
  'v1.6.0-rc1-k3sv1.26.1-k3s1.img',
  'v1.7.0.img', // an artifact alone never makes a branch
];

/** A flavor-prefixed repository (like quay.io/kairos/ubuntu) holding several lines. */
const UBUNTU = [
  'latest',
  SIG,
  '22.04-core-amd64-generic-v2.4.2',
  '22.04-core-amd64-generic-v2.4.3',
  '22.04-core-amd64-generic-v2.5.0-rc1',
  '22.04-core-arm64-rpi4-v2.4.2', // this line has no v2.4.3
  '22.04-core-arm64-rpi4-v2.4.2-img',
  '20.04-core-amd64-generic-v2.4.3',
  ...['v1.26.8-k3s1', 'v1.27.5-k3s1', 'v1.28.1-k3s1'].map((k) => `22.04-standard-amd64-generic-v2.4.2-k3s${k}`),
  ...['v1.26.9-k3s1', 'v1.27.6-k3s1', 'v1.28.2-k3s1'].map((k) => `22.04-standard-amd64-generic-v2.4.3-k3s${k}`),
  '22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1-img',
  '20.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1',
];

function judge(tag: string, tags: readonly string[]): Verdict {
  return evaluateTag({ tag, tags });
}

describe('evaluateTag: version-first standard repository', () => {
  it('the newest patch of the latest branch with current k3s is supported', () => {
    const v = judge('v1.5.1-k3sv1.26.1-k3s1', PROVIDER);
    expect(v).toEqual({
      status: 'supported',
      ok: true,
      reason: 'v1.5.1 is the newest patch of the latest release branch v1.5 with the newest k3s 1.26 patch',
    });
  });

  it.each(SEVEN.filter((k) => !k.startsWith('v1.23')))('all seven k3s minors of a v1 provider release: %s', (k3s) => {
    expect(judge(`v1.5.1-k3s${k3s}`, PROVIDER)).toMatchObject({ status: 'supported', ok: true });
  });

  it('an older patch of the latest branch: upgrade to the newest patch, same k3s minor', () => {
    const v = judge('v1.5.0-k3sv1.24.10-k3s1', PROVIDER);
    expect(v).toMatchObject({ status: 'outdated-patch', ok: false, upgradeTo: 'v1.5.1-k3sv1.24.10-k3s1' });
    expect(v.reason).toBe(
      'v1.5.0 is not the newest patch of release branch v1.5: v1.5.1 is; upgrade to v1.5.1-k3sv1.24.10-k3s1',
    );
  });

  it('an older patch picks the newest k3s build of the same minor', () => {
    expect(judge('v1.5.0-k3sv1.23.16-k3s1', PROVIDER)).toMatchObject({
      status: 'outdated-patch',
      upgradeTo: 'v1.5.1-k3sv1.23.16-k3s2',
    });
  });

  it('an older branch is unsupported: upgrade to the latest branch, same k3s minor', () => {
    const v = judge('v1.4.0-k3sv1.24.6-k3s1', PROVIDER);
    expect(v).toMatchObject({ status: 'unsupported-branch', ok: false, upgradeTo: 'v1.5.1-k3sv1.24.10-k3s1' });
    expect(v.reason).toContain('v1.4.0 is on release branch v1.4; only the latest release branch v1.5 is supported');
  });

  it('an older branch whose k3s minor the latest release dropped: upgrade to its newest k3s', () => {
    expect(judge('v1.4.0-k3sv1.19.16-k3s1', PROVIDER)).toMatchObject({
      status: 'unsupported-branch',
      upgradeTo: 'v1.5.1-k3sv1.26.1-k3s1',
    });
  });

  it('a pre-release is not supported, even on a newer branch: upgrade to the newest release', () => {
    const v = judge('v1.6.0-rc1-k3sv1.26.1-k3s1', PROVIDER);
    expect(v).toMatchObject({ status: 'prerelease', ok: false, upgradeTo: 'v1.5.1-k3sv1.26.1-k3s1' });
    expect(v.reason).toContain('v1.6.0-rc1 is a pre-release; pre-releases are not supported');
  });

  it('a branch with only pre-releases does not count as latest; once released it does', () => {
    expect(judge('v1.5.1-k3sv1.26.1-k3s1', PROVIDER).status).toBe('supported');
    const released = [...PROVIDER, 'v1.6.0-k3sv1.25.6-k3s1', 'v1.6.0-k3sv1.26.1-k3s1', 'v1.6.0-k3sv1.27.1-k3s1'];
    expect(judge('v1.5.1-k3sv1.26.1-k3s1', released)).toMatchObject({
      status: 'unsupported-branch',
      upgradeTo: 'v1.6.0-k3sv1.26.1-k3s1',
    });
    expect(judge('v1.6.0-k3sv1.27.1-k3s1', released).status).toBe('supported');
    expect(judge('v1.6.0-rc1-k3sv1.26.1-k3s1', released)).toMatchObject({
      status: 'prerelease',
      upgradeTo: 'v1.6.0-k3sv1.26.1-k3s1',
    });
  });

  it('a newer k3s patch of the same minor published for the same release: outdated k3s', () => {
    const v = judge('v1.5.1-k3sv1.25.5-k3s1', PROVIDER);
    expect(v).toMatchObject({ status: 'outdated-k3s', ok: false, upgradeTo: 'v1.5.1-k3sv1.25.6-k3s1' });
    expect(v.reason).toBe(
      'k3s v1.25.5+k3s1 is older than v1.25.6+k3s1, which v1.5.1 also publishes for k3s 1.25; upgrade to v1.5.1-k3sv1.25.6-k3s1',
    );
  });

  it('a newer k3s build of the same patch: outdated k3s', () => {
    expect(judge('v1.5.1-k3sv1.23.16-k3s1', PROVIDER)).toMatchObject({
      status: 'outdated-k3s',
      upgradeTo: 'v1.5.1-k3sv1.23.16-k3s2',
    });
    expect(judge('v1.5.1-k3sv1.23.16-k3s2', PROVIDER).status).toBe('supported');
  });

  it('a k3s version the release does not publish: unknown k3s', () => {
    const v = judge('v1.5.1-k3sv1.19.16-k3s1', PROVIDER);
    expect(v).toMatchObject({ status: 'unknown-k3s', ok: false, upgradeTo: 'v1.5.1-k3sv1.26.1-k3s1' });
    expect(v.reason).toContain('k3s v1.19.16+k3s1 is not published with v1.5.1 for standard images');
    expect(v.reason).toContain('v1.20.15+k3s1');
    // same minor as one published, but a patch nobody published
    expect(judge('v1.5.1-k3sv1.26.2-k3s1', PROVIDER)).toMatchObject({
      status: 'unknown-k3s',
      upgradeTo: 'v1.5.1-k3sv1.26.1-k3s1',
    });
    // k3s data comes from the tag list: with the tag published, it is known
    expect(judge('v1.5.1-k3sv1.19.16-k3s1', [...PROVIDER, 'v1.5.1-k3sv1.19.16-k3s1']).status).toBe('supported');
  });

  it('unknown k3s when the release publishes no tag at all', () => {
    const v = judge('v1.3.0-k3sv1.24.6-k3s1', PROVIDER);
    expect(v.status).toBe('unknown-k3s');
    expect(v.reason).toContain('(no k3s version is)');
    expect(v.upgradeTo).toBeUndefined();
  });

  it('an artifact is judged as its image; the upgrade is its artifact when published', () => {
    expect(judge('v1.5.1-k3sv1.26.1-k3s1.img', PROVIDER)).toMatchObject({ status: 'supported', ok: true });
    expect(judge('v1.5.0-k3sv1.26.1-k3s1.img', PROVIDER)).toMatchObject({
      status: 'outdated-patch',
      upgradeTo: 'v1.5.1-k3sv1.26.1-k3s1.img',
    });
    // no artifact published for the target: the image tag
    expect(judge('v1.5.0-k3sv1.24.10-k3s1.img', PROVIDER)).toMatchObject({
      status: 'outdated-patch',
      upgradeTo: 'v1.5.1-k3sv1.24.10-k3s1',
    });
    expect(judge('v1.6.0-rc1-k3sv1.26.1-k3s1.img', PROVIDER)).toMatchObject({
      status: 'prerelease',
      upgradeTo: 'v1.5.1-k3sv1.26.1-k3s1.img',
    });
  });

  it('noise is not a release', () => {
    for (const tag of ['latest', 'master', SIG, SBOM, '3f9c2ab', 'v1.5']) {
      const v = judge(tag, PROVIDER);
      expect(v.status).toBe('not-a-release');
      expect(v.ok).toBe(false);
      expect(v.upgradeTo).toBeUndefined();
    }
    expect(judge(SIG, PROVIDER).reason).toContain('cosign sig attachment');
    expect(judge('v1.5', PROVIDER).reason).toBe('"v1.5" is not MAJOR.MINOR.PATCH');
  });
});

describe('evaluateTag: version-first core repository', () => {
  const CORE = ['v1.9.0', 'v1.9.9', 'v1.10.0', 'v1.10.1', 'v1.10.1.img', 'v1.11.0-rc1', 'v1.11.0-rc2', 'latest'];

  it('orders branches with semver (v1.10 is newer than v1.9)', () => {
    expect(judge('v1.10.1', CORE)).toMatchObject({ status: 'supported', ok: true });
    expect(judge('v1.9.9', CORE)).toMatchObject({ status: 'unsupported-branch', upgradeTo: 'v1.10.1' });
    expect(judge('v1.10.0', CORE)).toMatchObject({ status: 'outdated-patch', upgradeTo: 'v1.10.1' });
    expect(judge('v1.10.0.img', CORE)).toMatchObject({ status: 'outdated-patch', upgradeTo: 'v1.10.1.img' });
    expect(judge('v1.11.0-rc2', CORE)).toMatchObject({ status: 'prerelease', upgradeTo: 'v1.10.1' });
  });

  it('a repository with only pre-releases has nothing to upgrade to', () => {
    const v = judge('v2.0.0-alpha3', ['v2.0.0-alpha2', 'v2.0.0-alpha3', 'latest']);
    expect(v).toEqual({
      status: 'prerelease',
      ok: false,
      reason: 'v2.0.0-alpha3 is a pre-release; pre-releases are not supported',
    });
  });

  it('a tag not (yet) in the list still counts for its own branch', () => {
    expect(judge('v1.10.2', CORE).status).toBe('supported');
    expect(judge('v1.12.0', CORE).status).toBe('supported');
    expect(judge('v1.5.0', []).status).toBe('supported');
  });
});

describe('evaluateTag: flavor-prefixed repository with several lines', () => {
  it('the newest patch is supported in every line that has it', () => {
    expect(judge('22.04-core-amd64-generic-v2.4.3', UBUNTU).status).toBe('supported');
    expect(judge('20.04-core-amd64-generic-v2.4.3', UBUNTU).status).toBe('supported');
    expect(judge('22.04-standard-amd64-generic-v2.4.3-k3sv1.26.9-k3s1', UBUNTU).status).toBe('supported');
    expect(judge('22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1-img', UBUNTU).status).toBe('supported');
  });

  it('the Kairos version decides the patch across lines; a line without the newer patch has no target', () => {
    const v = judge('22.04-core-arm64-rpi4-v2.4.2', UBUNTU);
    expect(v.status).toBe('outdated-patch');
    expect(v.upgradeTo).toBeUndefined();
    expect(v.reason).toContain('no newer patch is published for 22.04-core-arm64-rpi4');
    expect(judge('22.04-core-arm64-rpi4-v2.4.2-img', UBUNTU)).toMatchObject({ status: 'outdated-patch' });
  });

  it('upgrade targets stay in the same line, with the same k3s minor', () => {
    expect(judge('22.04-core-amd64-generic-v2.4.2', UBUNTU)).toMatchObject({
      status: 'outdated-patch',
      upgradeTo: '22.04-core-amd64-generic-v2.4.3',
    });
    expect(judge('22.04-standard-amd64-generic-v2.4.2-k3sv1.27.5-k3s1', UBUNTU)).toMatchObject({
      status: 'outdated-patch',
      upgradeTo: '22.04-standard-amd64-generic-v2.4.3-k3sv1.27.6-k3s1',
    });
    expect(judge('22.04-core-amd64-generic-v2.5.0-rc1', UBUNTU)).toMatchObject({
      status: 'prerelease',
      upgradeTo: '22.04-core-amd64-generic-v2.4.3',
    });
  });

  it('the k3s versions a release publishes are read per line', () => {
    const v = judge('20.04-standard-amd64-generic-v2.4.3-k3sv1.27.6-k3s1', UBUNTU);
    expect(v).toMatchObject({ status: 'unknown-k3s', upgradeTo: '20.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1' });
    expect(v.reason).toContain('for 20.04-standard-amd64-generic');
  });

  it('a newer release on another branch makes the whole repository move', () => {
    const tags = [...UBUNTU, '22.04-core-amd64-generic-v2.5.0'];
    expect(judge('20.04-core-amd64-generic-v2.4.3', tags)).toMatchObject({ status: 'unsupported-branch' });
    expect(judge('20.04-core-amd64-generic-v2.4.3', tags).upgradeTo).toBeUndefined();
    expect(judge('22.04-core-amd64-generic-v2.4.3', tags)).toMatchObject({
      status: 'unsupported-branch',
      upgradeTo: '22.04-core-amd64-generic-v2.5.0',
    });
  });
});

describe('evaluateAll', () => {
  it('classifies every tag, newest first, noise last and without a verdict', () => {
    const rows = evaluateAll(['latest', 'v1.4.0', 'v1.5.0.img', 'v1.5.0', 'v1.6.0-rc1', SIG]);
    expect(rows.map((r) => [r.tag, r.kind, r.verdict?.status])).toEqual([
      ['v1.6.0-rc1', 'prerelease', 'prerelease'],
      ['v1.5.0', 'release', 'supported'],
      ['v1.5.0.img', 'artifact', 'supported'],
      ['v1.4.0', 'release', 'unsupported-branch'],
      ['latest', 'noise', undefined],
      [SIG, 'noise', undefined],
    ]);
    expect(rows.find((r) => r.tag === 'latest')).not.toHaveProperty('verdict');
  });

  it('agrees with evaluateTag on every tag of a real-shaped repository', () => {
    for (const tags of [PROVIDER, UBUNTU]) {
      for (const row of evaluateAll(tags)) {
        if (row.kind === 'noise') continue;
        expect(row.verdict).toEqual(evaluateTag({ tag: row.tag, tags }));
      }
    }
  });

  it('stays fast on thousands of tags', () => {
    const tags: string[] = [];
    for (let minor = 0; minor < 20; minor++) {
      for (let patch = 0; patch < 10; patch++) {
        for (let k = 20; k < 30; k++) tags.push(`v1.${minor}.${patch}-k3sv1.${k}.${patch}-k3s1`);
      }
    }
    const start = performance.now();
    const rows = evaluateAll(tags);
    expect(rows).toHaveLength(2000);
    expect(rows.filter((r) => r.verdict?.status === 'supported')).toHaveLength(10);
    expect(performance.now() - start).toBeLessThan(5000);
  });

  it('indexTags ignores artifacts and pre-releases for branches', () => {
    const index = indexTags(['v1.7.0.img', 'v1.6.0-rc1', 'v1.5.1', 'v1.5.0', 'latest']);
    expect(index.latestBranch).toBe('1.5');
    expect(index.newestByBranch.get('1.5')).toBe('1.5.1');
    expect(index.artifacts.has('v1.7.0.img')).toBe(true);
    expect(indexTags(['v1.6.0-rc1', 'latest']).latestBranch).toBeUndefined();
  });
});
