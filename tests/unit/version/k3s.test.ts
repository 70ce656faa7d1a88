import { describe, expect, it } from 'vitest';
import {
  compareK3s, formatK3s, isK3sVersion, k3sBuild, k3sMinor, k3sSelects, k3sSemver, k3sTagForm, K3S_PATTERN, newestFirst, normalizeK3s, parseK3s, parseK3sSelector, readK3s,
} from '../../../src/version/index.js';
import { formatTag, parseTag } from '../../../src/policy/tag.js';

describe('one k3s grammar, both forms', () => {
  it('reads the canonical and the tag form alike', () => {
    expect(parseK3s('v1.26.1+k3s1')).toEqual({ core: '1.26.1', build: 1 });
    expect(parseK3s('v1.26.1-k3s12')).toEqual({ core: '1.26.1', build: 12 });
  });
  it('refuses partial, unprefixed and zero-padded versions, naming a zero-padded build', () => {
    for (const bad of ['v1.26-k3s1', 'v1.26.1', '1.26.1+k3s1', 'v1.026.1-k3s1', 'v1.26.1-k3s', 'v1.26.1-k3s1-extra', 'k3sv1.26.1-k3s1']) expect(isK3sVersion(bad)).toBe(false);
    expect(readK3s('v1.26.1-k3s01')).toEqual({ ok: false, problem: 'leading-zero-build', build: '01' });
    expect(readK3s('v1.26-k3s1')).toEqual({ ok: false, problem: 'syntax' });
  });
  it('round-trips: canonical ⇄ tag form', () => {
    for (const canonical of ['v1.26.1+k3s1', 'v1.28.2+k3s2', 'v1.9.0+k3s10']) {
      const tag = k3sTagForm(canonical);
      expect(tag).toBe(canonical.replace('+', '-'));
      expect(normalizeK3s(tag)).toBe(canonical);
      const k = parseK3s(tag);
      expect(k === undefined ? undefined : formatK3s(k)).toBe(canonical);
    }
  });
  it('round-trips inside Kairos tags: parseTag gives the canonical form, formatTag the tag form', () => {
    for (const tag of ['v1.5.1-k3sv1.26.1-k3s1', '22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s2', 'v1.5.0-k3sv1.26.1-k3s1.img']) {
      const t = parseTag(tag);
      expect(t.kind === 'noise' ? undefined : t.k3s).toMatch(/^v\d+\.\d+\.\d+\+k3s\d+$/);
      expect(formatTag(t)).toBe(tag);
    }
  });
  it('normalizes what users type', () => {
    expect(normalizeK3s('v1.26.1+k3s1')).toBe('v1.26.1+k3s1');
    expect(normalizeK3s(' 1.26.1 ')).toBe('v1.26.1+k3s1');
    expect(normalizeK3s('v1.26.1-k3s2')).toBe('v1.26.1+k3s2');
    for (const bad of ['1.26', 'v1.26.1-rc1', 'vv1.26.1', 'v1.26.1+k3s']) expect(normalizeK3s(bad)).toBeUndefined();
  });
  it('embeds as a pattern', () => {
    const re = new RegExp(`^v1\\.5\\.1-k3s${K3S_PATTERN}$`);
    expect(re.test('v1.5.1-k3sv1.26.1-k3s1')).toBe(true);
    expect(re.test('v1.5.1-k3sv1.26-k3s1')).toBe(false);
  });
  it('splits a version', () => {
    expect(k3sSemver('v1.26.1+k3s1')).toBe('1.26.1');
    expect(k3sBuild('v1.26.1-k3s12')).toBe(12);
    expect(k3sMinor('v1.26.10+k3s1')).toBe('1.26');
    expect(() => k3sSemver('garbage')).toThrow(TypeError);
  });
});

describe('compareK3s: ascending by semver, then build number', () => {
  it('orders builds as numbers and versions numerically', () => {
    const list = ['v1.26.1+k3s2', 'v1.9.0+k3s1', 'v1.26.10+k3s1', 'v1.26.1+k3s10', 'v1.26.1+k3s1', 'v1.25.6+k3s1'];
    expect([...list].sort(compareK3s)).toEqual(['v1.9.0+k3s1', 'v1.25.6+k3s1', 'v1.26.1+k3s1', 'v1.26.1+k3s2', 'v1.26.1+k3s10', 'v1.26.10+k3s1']);
    expect([...list].sort(newestFirst(compareK3s))[0]).toBe('v1.26.10+k3s1');
  });
  it('treats both forms of one version as equal', () => {
    expect(compareK3s('v1.26.1+k3s1', 'v1.26.1-k3s1')).toBe(0);
    expect(compareK3s('v1.26.1+k3s1', 'v1.26.1+k3s2')).toBeLessThan(0);
  });
  it('throws on what is not a k3s version', () => {
    expect(() => compareK3s('v1.26.1', 'v1.26.1+k3s1')).toThrow(TypeError);
  });
});

describe('--k3s selectors', () => {
  it('select a release, a patch or a minor', () => {
    const pick = (sel: string, k3s: string): boolean => {
      const s = parseK3sSelector(sel);
      if (s === undefined) throw new Error(`bad selector ${sel}`);
      return k3sSelects(s, k3s);
    };
    expect(pick('v1.26.1+k3s2', 'v1.26.1+k3s2')).toBe(true);
    expect(pick('v1.26.1-k3s2', 'v1.26.1+k3s1')).toBe(false);
    expect(pick('1.26.1', 'v1.26.1+k3s2')).toBe(true);
    expect(pick('k3sv1.26', 'v1.26.9+k3s1')).toBe(true);
    expect(pick('v1.26', 'v1.27.0+k3s1')).toBe(false);
  });
  it('refuse a build without a patch, and what is no version', () => {
    for (const bad of ['v1.26+k3s1', 'v1', 'newer', 'v1.26.1-rc1']) expect(parseK3sSelector(bad)).toBeUndefined();
  });
});
