import { describe, expect, it } from 'vitest';
import {
  compareKairos, describeRange, inRange, isKairosPrerelease, isKairosRelease, isKairosVersion, kairosSemver, KAIROS_VERSION_PATTERN, newestFirst, normalizeKairos,
} from '../../../src/version/index.js';

const sorted = (xs: string[]): string[] => [...xs].sort(compareKairos);

describe('Kairos versions: v + semver', () => {
  it('reads the semver form and refuses what is not one', () => {
    expect(kairosSemver('v1.5.1')).toBe('1.5.1');
    expect(kairosSemver('v2.0.0-alpha3')).toBe('2.0.0-alpha3');
    for (const bad of ['1.5.1', 'vv1.5.1', 'v1.5', 'v01.5.1', 'v1.5.x', 'latest', '']) expect(isKairosVersion(bad)).toBe(false);
  });
  it('normalizes what users type', () => {
    expect(normalizeKairos('1.5.1')).toBe('v1.5.1');
    expect(normalizeKairos('v1.6.0-rc1')).toBe('v1.6.0-rc1');
    expect(normalizeKairos('1.5')).toBeUndefined();
    expect(normalizeKairos('vv1.5.0')).toBeUndefined();
  });
  it('tells releases from pre-releases', () => {
    expect(isKairosRelease('v2.4.3')).toBe(true);
    expect(isKairosRelease('v2.5.0-rc1')).toBe(false);
    expect(isKairosRelease('2.4.3')).toBe(false);
    expect(isKairosPrerelease('rc1')).toBe(true);
    expect(isKairosPrerelease('beta.2')).toBe(true);
    expect(isKairosPrerelease('k3s-1')).toBe(false);
  });
  it('embeds as a pattern matching exactly the versions tags carry', () => {
    const re = new RegExp(`^${KAIROS_VERSION_PATTERN}$`);
    for (const ok of ['v1.5.1', 'v2.0.0-alpha3', 'v1.6.0-rc.10']) expect(re.test(ok)).toBe(true);
    for (const bad of ['1.5.1', 'v1.5', 'v1.5.1-k3sv1.26.1-k3s1', 'v1.5.1.img']) expect(re.test(bad)).toBe(false);
  });
});

describe('compareKairos: ascending, pre-releases before their release', () => {
  it('orders numerically, never as text', () => {
    expect(sorted(['v1.10.0', 'v1.9.9', 'v10.0.0', 'v1.2.0'])).toEqual(['v1.2.0', 'v1.9.9', 'v1.10.0', 'v10.0.0']);
  });
  it('alpha < beta < rc < release, and the seed era boundary v2.0.0-alpha2 < v2.0.0-alpha3', () => {
    expect(sorted(['v2.0.0', 'v2.0.0-rc1', 'v2.0.0-alpha3', 'v2.0.0-beta1', 'v2.0.0-alpha2', 'v1.6.0']))
      .toEqual(['v1.6.0', 'v2.0.0-alpha2', 'v2.0.0-alpha3', 'v2.0.0-beta1', 'v2.0.0-rc1', 'v2.0.0']);
  });
  it('keeps semver\'s rule for mixed identifiers: rc10 sorts before rc2; rc.10 after rc.2', () => {
    expect(compareKairos('v1.6.0-rc10', 'v1.6.0-rc2')).toBeLessThan(0);
    expect(compareKairos('v1.6.0-rc.10', 'v1.6.0-rc.2')).toBeGreaterThan(0);
  });
  it('is zero only for equal versions, and newest first is its reverse', () => {
    expect(compareKairos('v1.5.1', 'v1.5.1')).toBe(0);
    expect([...['v1.5.0', 'v2.0.0-rc1', 'v1.10.0']].sort(newestFirst(compareKairos))).toEqual(['v2.0.0-rc1', 'v1.10.0', 'v1.5.0']);
  });
  it('throws on what is not a Kairos version', () => {
    expect(() => compareKairos('1.5.1', 'v1.5.1')).toThrow(TypeError);
  });
});

describe('ranges: from inclusive, until exclusive', () => {
  const era = { from: 'v2.0.0-alpha3', until: 'v2.0.1' };
  it('holds its bounds exactly', () => {
    expect(inRange('v2.0.0-alpha3', era)).toBe(true);
    expect(inRange('v2.0.0-alpha2', era)).toBe(false);
    expect(inRange('v2.0.0', era)).toBe(true);
    expect(inRange('v2.0.1', era)).toBe(false);
    expect(inRange('v9.9.9', {})).toBe(true);
    expect(inRange('v1.0.0', { until: 'v1.0.0' })).toBe(false);
  });
  it('refuses a version that is not one, even for an open range', () => {
    expect(() => inRange('1.5', {})).toThrow(TypeError);
  });
  it('describes itself', () => {
    expect(describeRange(era)).toBe('v2.0.0-alpha3 up to (not including) v2.0.1');
    expect(describeRange({ from: 'v1.2.0' })).toBe('v1.2.0 and later');
    expect(describeRange({ until: 'v1.5.0' })).toBe('before v1.5.0');
    expect(describeRange({})).toBe('every release');
  });
});
