import { describe, expect, it } from 'vitest';
import { compareMinors, isMinor, minorOf, minorsBetween, minorText, newestFirst } from '../../../src/version/index.js';
import { branchOf } from '../../../src/policy/rules.js';

describe('minors', () => {
  it('order as number pairs: 1.9 < 1.10', () => {
    expect(['1.10', '1.9', '2.0', '1.2'].sort(compareMinors)).toEqual(['1.2', '1.9', '1.10', '2.0']);
    expect(['1.10', '1.9', '2.0'].sort(newestFirst(compareMinors))).toEqual(['2.0', '1.10', '1.9']);
  });
  it('come from loosely written versions', () => {
    expect(minorText('v1.3.7')).toBe('1.3');
    expect(minorText('v1.10.0-beta.0')).toBe('1.10');
    expect(minorText('1.26.3+k3s1')).toBe('1.26');
    expect(minorOf('1.x')).toBeUndefined();
    expect(isMinor('1.10')).toBe(true);
    expect(isMinor('1.10.0')).toBe(false);
  });
  it('list a Kubernetes span', () => {
    expect(minorsBetween('1.24', '1.26')).toEqual(['1.24', '1.25', '1.26']);
  });
  it('are Kairos release branches too', () => {
    expect(branchOf('2.4.3')).toBe('2.4');
    expect(branchOf('2.5.0-rc1')).toBe('2.5');
    expect(compareMinors(branchOf('1.10.0'), branchOf('1.9.5'))).toBeGreaterThan(0);
  });
});
