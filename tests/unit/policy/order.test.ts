import { describe, expect, it } from 'vitest';
import { compareTags, sortTags } from '../../../src/policy/order.js';
import { compareK3s, k3sBuild, k3sMinor, k3sSemver, newestFirst } from '../../../src/version/index.js';

// The tag order ranks k3s newest first, derived from the one ascending comparator.
const newestK3sFirst = newestFirst(compareK3s);

const SIG = `sha256-${'b'.repeat(64)}.sig`;

describe('compareTags: newest first, by semver, never as strings', () => {
  it('v1.10.0 is newer than v1.9.9 (string order says the opposite)', () => {
    expect('v1.10.0' < 'v1.9.9').toBe(true);
    expect(compareTags('v1.10.0', 'v1.9.9')).toBeLessThan(0);
    expect(compareTags('v1.9.9', 'v1.10.0')).toBeGreaterThan(0);
    expect(sortTags(['v1.9.9', 'v1.10.0', 'v1.2.0', 'v10.0.0'])).toEqual(['v10.0.0', 'v1.10.0', 'v1.9.9', 'v1.2.0']);
  });

  it('a release is newer than its pre-releases, alpha < beta < rc', () => {
    expect(sortTags(['v2.0.0-alpha3', 'v2.0.0', 'v2.0.0-rc1', 'v2.0.0-beta1', 'v1.6.0'])).toEqual([
      'v2.0.0',
      'v2.0.0-rc1',
      'v2.0.0-beta1',
      'v2.0.0-alpha3',
      'v1.6.0',
    ]);
  });

  it('semver compares "rc10" and "rc2" lexically: rc2 ranks newer (documented, not "fixed")', () => {
    expect(compareTags('v1.6.0-rc2', 'v1.6.0-rc10')).toBeLessThan(0);
    // numeric identifiers separated by a dot do compare as numbers
    expect(compareTags('v1.6.0-rc.10', 'v1.6.0-rc.2')).toBeLessThan(0);
  });

  it('same Kairos version: then k3s by semver and build number', () => {
    const tags = [
      'v1.5.1-k3sv1.9.0-k3s1',
      'v1.5.1-k3sv1.26.1-k3s1',
      'v1.5.1-k3sv1.26.1-k3s2',
      'v1.5.1-k3sv1.26.10-k3s1',
      'v1.5.1-k3sv1.25.6-k3s1',
      'v1.6.0-k3sv1.20.0-k3s1',
    ];
    expect(sortTags(tags)).toEqual([
      'v1.6.0-k3sv1.20.0-k3s1',
      'v1.5.1-k3sv1.26.10-k3s1',
      'v1.5.1-k3sv1.26.1-k3s2',
      'v1.5.1-k3sv1.26.1-k3s1',
      'v1.5.1-k3sv1.25.6-k3s1',
      'v1.5.1-k3sv1.9.0-k3s1',
    ]);
  });

  it('k3s build numbers compare as numbers (k3s10 > k3s2)', () => {
    expect(compareTags('v1.5.1-k3sv1.26.1-k3s10', 'v1.5.1-k3sv1.26.1-k3s2')).toBeLessThan(0);
  });

  it('then the rest: images before artifacts, flavor release newest first, noise last', () => {
    const tags = [
      SIG,
      'latest',
      'v1.5.0.img',
      'v1.5.0',
      '20.04-core-amd64-generic-v2.4.3',
      '22.04-core-amd64-generic-v2.4.3',
      '22.04-core-amd64-generic-v2.4.3-img',
      '22.04-core-arm64-rpi4-v2.4.3',
      '22.04-core-amd64-generic-v2.5.0',
      'master',
    ];
    expect(sortTags(tags)).toEqual([
      '22.04-core-amd64-generic-v2.5.0',
      '22.04-core-amd64-generic-v2.4.3',
      '22.04-core-amd64-generic-v2.4.3-img',
      '22.04-core-arm64-rpi4-v2.4.3',
      '20.04-core-amd64-generic-v2.4.3',
      'v1.5.0',
      'v1.5.0.img',
      'latest',
      'master',
      SIG,
    ]);
  });

  it('is a consistent comparator (antisymmetric, zero only for the same tag)', () => {
    const tags = ['v1.5.0', 'v1.5.0.img', 'v1.5.0-k3sv1.26.1-k3s1', 'latest', 'v1.6.0-rc1', '22.04-core-amd64-generic-v2.4.3'];
    for (const a of tags) {
      for (const b of tags) {
        const ab = compareTags(a, b);
        expect(Math.sign(ab)).toBe(-Math.sign(compareTags(b, a)) || 0);
        if (a !== b) expect(ab).not.toBe(0);
      }
    }
  });
});

describe('k3s helpers', () => {
  it('split a k3s version', () => {
    expect(k3sSemver('v1.26.1+k3s1')).toBe('1.26.1');
    expect(k3sBuild('v1.26.1+k3s12')).toBe(12);
    expect(k3sMinor('v1.26.1+k3s1')).toBe('1.26');
    expect(newestK3sFirst('v1.26.1+k3s1', 'v1.26.1+k3s2')).toBeGreaterThan(0);
    expect(newestK3sFirst('v1.27.0+k3s1', 'v1.26.9+k3s3')).toBeLessThan(0);
    expect(newestK3sFirst('v1.26.1+k3s1', 'v1.26.1+k3s1')).toBe(0);
  });
});
