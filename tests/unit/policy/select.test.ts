import { describe, expect, it } from 'vitest';
import { KairosImgError } from '../../../src/errors.js';
import { nearestTags, newestRelease } from '../../../src/policy/select.js';

const SIG = `sha256-${'d'.repeat(64)}.sig`;

const PROVIDER = [
  'latest',
  SIG,
  'v1.4.0-k3sv1.19.16-k3s1',
  'v1.4.0-k3sv1.25.2-k3s1',
  'v1.5.1-k3sv1.24.10-k3s1',
  'v1.5.1-k3sv1.25.5-k3s1',
  'v1.5.1-k3sv1.25.6-k3s1',
  'v1.5.1-k3sv1.26.1-k3s1',
  'v1.5.1-k3sv1.26.1-k3s2',
  'v1.5.1-k3sv1.26.1-k3s2.img',
  'v1.9.0-k3sv1.26.1-k3s1.img', // artifact only: never "newest"
  'v1.6.0-rc1-k3sv1.27.1-k3s1', // pre-release: never "newest"
];

const UBUNTU = [
  'latest',
  '22.04-core-amd64-generic-v2.4.2',
  '22.04-core-amd64-generic-v2.4.3',
  '22.04-core-amd64-generic-v2.4.3-img',
  '22.04-core-amd64-generic-v2.5.0-rc1',
  '22.04-core-arm64-rpi4-v2.4.2',
  '20.04-core-amd64-generic-v2.4.3',
  '22.04-standard-amd64-generic-v2.4.3-k3sv1.26.9-k3s1',
  '22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1',
  '22.04-standard-amd64-generic-v2.4.3-k3sv1.27.6-k3s1',
];

describe('newestRelease', () => {
  it('skips noise, pre-releases and artifacts; picks the newest k3s of the newest release', () => {
    expect(newestRelease(PROVIDER)).toBe('v1.5.1-k3sv1.26.1-k3s2');
    expect(newestRelease(PROVIDER, { k3s: 'newest' })).toBe('v1.5.1-k3sv1.26.1-k3s2');
    expect(newestRelease(PROVIDER, { variant: 'standard' })).toBe('v1.5.1-k3sv1.26.1-k3s2');
  });

  it('orders versions with semver', () => {
    expect(newestRelease(['v1.9.9', 'v1.10.0', 'v1.2.0'])).toBe('v1.10.0');
  });

  it('picks a k3s version by minor, patch or full version', () => {
    expect(newestRelease(PROVIDER, { k3s: 'v1.25' })).toBe('v1.5.1-k3sv1.25.6-k3s1');
    expect(newestRelease(PROVIDER, { k3s: '1.25' })).toBe('v1.5.1-k3sv1.25.6-k3s1');
    expect(newestRelease(PROVIDER, { k3s: 'v1.25.5' })).toBe('v1.5.1-k3sv1.25.5-k3s1');
    expect(newestRelease(PROVIDER, { k3s: 'v1.26.1+k3s1' })).toBe('v1.5.1-k3sv1.26.1-k3s1');
    expect(newestRelease(PROVIDER, { k3s: 'v1.26.1-k3s1' })).toBe('v1.5.1-k3sv1.26.1-k3s1');
    expect(newestRelease(PROVIDER, { k3s: 'k3sv1.26.1-k3s2' })).toBe('v1.5.1-k3sv1.26.1-k3s2');
    expect(newestRelease(PROVIDER, { k3s: 'v1.26.1' })).toBe('v1.5.1-k3sv1.26.1-k3s2');
  });

  it('falls back to the newest release that publishes the wanted k3s', () => {
    expect(newestRelease(PROVIDER, { k3s: 'v1.19' })).toBe('v1.4.0-k3sv1.19.16-k3s1');
    expect(newestRelease(PROVIDER, { k3s: 'v1.18' })).toBeUndefined();
    expect(newestRelease(PROVIDER, { k3s: 'v1.27' })).toBeUndefined(); // only a pre-release has it
  });

  it('rejects a k3s selector that is no version', () => {
    for (const bad of ['bogus', 'v1', 'v1.26-k3s1', 'v1.26.1+k3s']) {
      expect(() => newestRelease(PROVIDER, { k3s: bad })).toThrow(KairosImgError);
    }
    try {
      newestRelease(PROVIDER, { k3s: 'bogus' });
    } catch (e) {
      expect(e).toMatchObject({ code: 'BAD_K3S_VERSION', kind: 'usage' });
    }
  });

  it('filters lines of a flavor-prefixed repository', () => {
    expect(newestRelease(UBUNTU, { variant: 'core', flavorRelease: '22.04', arch: 'amd64', model: 'generic' })).toBe(
      '22.04-core-amd64-generic-v2.4.3',
    );
    expect(newestRelease(UBUNTU, { variant: 'core', arch: 'arm64', model: 'rpi4' })).toBe('22.04-core-arm64-rpi4-v2.4.2');
    expect(newestRelease(UBUNTU, { variant: 'core', flavorRelease: '20.04' })).toBe('20.04-core-amd64-generic-v2.4.3');
    expect(newestRelease(UBUNTU, { variant: 'standard', arch: 'amd64' })).toBe(
      '22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1',
    );
    expect(newestRelease(UBUNTU, { variant: 'standard', k3s: 'v1.27' })).toBe(
      '22.04-standard-amd64-generic-v2.4.3-k3sv1.27.6-k3s1',
    );
    expect(newestRelease(UBUNTU, { variant: 'core', arch: 'riscv64' })).toBeUndefined();
  });

  it('line filters do not exclude version-first tags, which do not spell the line out', () => {
    expect(newestRelease(PROVIDER, { arch: 'amd64', model: 'generic', flavorRelease: '22.04' })).toBe(
      'v1.5.1-k3sv1.26.1-k3s2',
    );
    expect(newestRelease(PROVIDER, { variant: 'core' })).toBeUndefined();
  });

  it('nothing to pick', () => {
    expect(newestRelease([])).toBeUndefined();
    expect(newestRelease(['latest', SIG, 'v2.0.0-alpha3', 'v1.1.7.img'])).toBeUndefined();
  });
});

describe('nearestTags', () => {
  it('same Kairos version first, then by edit distance; never noise nor the tag itself', () => {
    const near = nearestTags('v1.5.1-k3sv1.26.2-k3s1', PROVIDER, 3);
    // 1.25.5 and 1.25.6 are both two edits away: ties go to the newest
    expect(near).toEqual(['v1.5.1-k3sv1.26.1-k3s1', 'v1.5.1-k3sv1.26.1-k3s2', 'v1.5.1-k3sv1.25.6-k3s1']);
  });

  it('the same version outranks a closer spelling of another version', () => {
    const tags = ['v1.5.0', 'v1.5.1-k3sv1.26.1-k3s1'];
    expect(nearestTags('v1.5.1', tags, 2)).toEqual(['v1.5.1-k3sv1.26.1-k3s1', 'v1.5.0']);
  });

  it('an unparseable wish is matched by spelling only', () => {
    expect(nearestTags('v1.5.l', ['v1.5.1', 'v1.4.0', 'v1.5.0-rc1', 'latest'], 2)).toEqual(['v1.5.1', 'v1.4.0']);
    expect(nearestTags('lates', ['latest', 'v1.5.1'], 5)).toEqual(['v1.5.1']);
  });

  it('respects n', () => {
    expect(nearestTags('v1.5.1', PROVIDER, 0)).toEqual([]);
    expect(nearestTags('v1.5.1', PROVIDER)).toHaveLength(5);
    expect(nearestTags('v1.5.1', ['v1.5.1'], 5)).toEqual([]);
  });
});
