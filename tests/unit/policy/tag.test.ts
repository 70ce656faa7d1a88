import { describe, expect, it } from 'vitest';
import {
  artifactOf,
  classifyTag,
  formatTag,
  imageOf,
  parseTag,
  tagProblem,
  type ReleaseTag,
} from '../../../src/policy/tag.js';

const HEX64 = 'a'.repeat(40) + '0123456789abcdef01234567';

function release(tag: string): ReleaseTag {
  const t = parseTag(tag);
  if (t.kind === 'noise') throw new Error(`${tag} parsed as noise (${t.reason}): ${tagProblem(tag)}`);
  return t;
}

describe('parseTag: version-first naming (v1.0 – v2.4.1)', () => {
  it('a core release', () => {
    expect(parseTag('v1.4.0')).toStrictEqual({
      kind: 'release',
      era: 'v1',
      version: 'v1.4.0',
      semver: '1.4.0',
      artifact: false,
      raw: 'v1.4.0',
    });
  });

  it('a pre-release', () => {
    expect(parseTag('v1.6.0-rc1')).toMatchObject({ kind: 'prerelease', version: 'v1.6.0-rc1', semver: '1.6.0-rc1' });
    expect(parseTag('v1.6.0-rc1')).not.toHaveProperty('k3s');
    expect(parseTag('v2.0.0-alpha3')).toMatchObject({ kind: 'prerelease', era: 'v1', semver: '2.0.0-alpha3' });
    expect(parseTag('v2.4.0-rc2')).toMatchObject({ kind: 'prerelease', semver: '2.4.0-rc2' });
    expect(parseTag('v3.0.0-beta.1')).toMatchObject({ kind: 'prerelease', semver: '3.0.0-beta.1' });
  });

  it('a standard release: the -k3s… part is the k3s suffix, its -k3sN the build metadata', () => {
    expect(parseTag('v1.5.1-k3sv1.26.1-k3s1')).toStrictEqual({
      kind: 'release',
      era: 'v1',
      version: 'v1.5.1',
      semver: '1.5.1',
      k3s: 'v1.26.1+k3s1',
      artifact: false,
      raw: 'v1.5.1-k3sv1.26.1-k3s1',
    });
  });

  it('a standard pre-release', () => {
    expect(parseTag('v2.0.0-beta1-k3sv1.26.3-k3s1')).toMatchObject({
      kind: 'prerelease',
      semver: '2.0.0-beta1',
      k3s: 'v1.26.3+k3s1',
    });
  });

  it('accepts the k3s "+" form', () => {
    expect(parseTag('v1.5.1-k3sv1.26.1+k3s1')).toMatchObject({ kind: 'release', k3s: 'v1.26.1+k3s1' });
    expect(parseTag('v1.5.1-k3sv1.26.1+k3s2')).toMatchObject({ k3s: 'v1.26.1+k3s2' });
  });

  it('artifacts end in .img', () => {
    expect(parseTag('v1.1.7.img')).toMatchObject({ kind: 'release', era: 'v1', semver: '1.1.7', artifact: true });
    expect(parseTag('v1.5.0-k3sv1.26.1-k3s1.img')).toMatchObject({
      semver: '1.5.0',
      k3s: 'v1.26.1+k3s1',
      artifact: true,
    });
    expect(parseTag('v1.6.0-rc1.img')).toMatchObject({ kind: 'prerelease', semver: '1.6.0-rc1', artifact: true });
  });

  it('multi-digit numbers', () => {
    expect(parseTag('v1.10.12')).toMatchObject({ semver: '1.10.12' });
    expect(parseTag('v1.5.1-k3sv1.26.10-k3s12')).toMatchObject({ k3s: 'v1.26.10+k3s12' });
  });
});

describe('parseTag: flavor-prefixed naming (v2.4.2+)', () => {
  it('a standard image', () => {
    expect(parseTag('22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1')).toStrictEqual({
      kind: 'release',
      era: 'v2.4.2+',
      version: 'v2.4.3',
      semver: '2.4.3',
      k3s: 'v1.28.2+k3s1',
      artifact: false,
      flavorRelease: '22.04',
      variant: 'standard',
      arch: 'amd64',
      model: 'generic',
      raw: '22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1',
    });
  });

  it('a core image whose flavor release holds a dash', () => {
    expect(parseTag('leap-15.5-core-arm64-rpi4-v2.4.3')).toStrictEqual({
      kind: 'release',
      era: 'v2.4.2+',
      version: 'v2.4.3',
      semver: '2.4.3',
      artifact: false,
      flavorRelease: 'leap-15.5',
      variant: 'core',
      arch: 'arm64',
      model: 'rpi4',
      raw: 'leap-15.5-core-arm64-rpi4-v2.4.3',
    });
  });

  it('artifacts end in -img', () => {
    expect(parseTag('leap-15.5-core-arm64-rpi4-v2.4.3-img')).toMatchObject({
      flavorRelease: 'leap-15.5',
      model: 'rpi4',
      semver: '2.4.3',
      artifact: true,
    });
    expect(parseTag('3.19-standard-arm64-rpi4-v2.5.0-k3sv1.29.0-k3s1-img')).toMatchObject({
      kind: 'release',
      flavorRelease: '3.19',
      variant: 'standard',
      arch: 'arm64',
      model: 'rpi4',
      semver: '2.5.0',
      k3s: 'v1.29.0+k3s1',
      artifact: true,
    });
  });

  it('pre-releases, multi-word flavor releases and models', () => {
    expect(parseTag('22.04-core-amd64-generic-v2.5.0-rc1')).toMatchObject({ kind: 'prerelease', semver: '2.5.0-rc1' });
    expect(parseTag('tumbleweed-core-amd64-generic-v2.4.3')).toMatchObject({ flavorRelease: 'tumbleweed' });
    expect(parseTag('22.04-core-arm64-nvidia-jetson-agx-orin-v3.0.0')).toMatchObject({
      arch: 'arm64',
      model: 'nvidia-jetson-agx-orin',
      semver: '3.0.0',
    });
    expect(parseTag('22.04-standard-amd64-generic-v2.5.0-rc1-k3sv1.29.0-k3s1')).toMatchObject({
      kind: 'prerelease',
      semver: '2.5.0-rc1',
      k3s: 'v1.29.0+k3s1',
    });
  });
});

describe('parseTag: noise', () => {
  it.each([
    ['latest', 'latest'],
    ['master', 'branch'],
    ['main', 'branch'],
    ['develop', 'branch'],
    ['0a1b2c3', 'git-hash'],
    ['0a1b2c3d4e5f60718293a4b5c6d7e8f901234567', 'git-hash'],
    [`sha256-${HEX64}.sig`, 'cosign-signature'],
    [`sha256-${HEX64}.att`, 'cosign-attestation'],
    [`sha256-${HEX64}.sbom`, 'sbom'],
    ['0a1b2c', 'unknown'],
    ['0a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', 'unknown'],
    [`sha256-${HEX64}.txt`, 'unknown'],
    ['feature-x', 'unknown'],
    ['v1.5', 'unknown'],
    ['', 'unknown'],
  ])('%s is noise (%s)', (tag, reason) => {
    expect(parseTag(tag)).toStrictEqual({ kind: 'noise', reason, raw: tag });
    expect(classifyTag(tag)).toBe('noise');
  });
});

describe('tagProblem: invalid tags of every era, with a human reason', () => {
  it.each([
    ['v1.5', '"v1.5" is not MAJOR.MINOR.PATCH'],
    ['v1', '"v1" is not MAJOR.MINOR.PATCH'],
    ['v1.5.0.1', '"v1.5.0.1" is not MAJOR.MINOR.PATCH'],
    ['1.5.0', 'lacks the "v"'],
    ['1.5.0-k3sv1.26.1-k3s1', 'lacks the "v"'],
    ['22.04-standard-amd64-generic-2.4.3-k3sv1.28.2-k3s1', 'lacks the "v"'],
    ['v1.5.1-k3sv1.26-k3s1', 'k3s suffix "k3sv1.26-k3s1" is not a k3s version'],
    ['v1.5.1-k3sv1.26', 'k3s suffix "k3sv1.26" is not a k3s version'],
    ['v1.5.1-k3sv1.26.1', 'k3s suffix "k3sv1.26.1" is not a k3s version'],
    ['v1.5.1-k3s1.26.1-k3s1', 'k3s suffix "k3s1.26.1-k3s1" is not a k3s version'],
    ['v1.5.1-k3sv1.26.1-k3s01', 'leading zero'],
    ['v1.5.1-k3sv1.026.1-k3s1', 'is not a k3s version'],
    ['v01.5.1', 'not a semantic version'],
    ['v1.6.0-rc01', undefined],
    ['v1.6.0-01', 'not a semantic version'],
    ['v1.6.0-rc_1', 'is not a semver pre-release'],
    ['v1.6.0-rc1-foo', 'unexpected "-foo" after the version'],
    ['v1.5.1-k3sv1.26.1-k3s1-extra', 'is not a k3s version'],
    ['v1.1.7-img', 'version-first tags mark artifacts with ".img"'],
    ['leap-15.5-core-arm64-rpi4-v2.4.3.img', 'flavor-prefixed tags mark artifacts with "-img"'],
    ['leap-15.5-core-arm64-rpi4-v2.4.3-k3sv1.28.2-k3s1', 'a core image carries no k3s suffix'],
    ['22.04-standard-amd64-generic-v2.4.3', 'a standard image needs a k3s suffix'],
    ['22.04-server-amd64-generic-v2.4.3', 'is not <flavorRelease>-<core|standard>-<arch>-<model>'],
    ['22.04-core-amd64-v2.4.3', 'is not <flavorRelease>-<core|standard>-<arch>-<model>'],
    ['core-amd64-generic-v2.4.3', 'is not <flavorRelease>-<core|standard>-<arch>-<model>'],
    ['22.04-core-amd64-generic-v2.4', '"v2.4" is not MAJOR.MINOR.PATCH'],
    ['-v1.5.0', 'starts with "-"'],
    ['latest', 'moving tag'],
    ['master', 'branch tag'],
    ['0a1b2c3', 'git-hash tag'],
    [`sha256-${HEX64}.sig`, 'cosign sig attachment'],
    [`sha256-${HEX64}.sbom`, 'cosign sbom attachment'],
    ['something', 'has no Kairos version'],
  ])('%s → %s', (tag, reason) => {
    const problem = tagProblem(tag);
    if (reason === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(reason);
  });

  it('a naming that contradicts its era', () => {
    expect(tagProblem('22.04-core-amd64-generic-v2.4.1')).toContain('flavor-prefixed tags start at v2.4.2');
    expect(tagProblem('22.04-core-amd64-generic-v1.5.0')).toContain('start at v2.4.2');
    expect(tagProblem('22.04-core-amd64-generic-v2.4.2')).toBeUndefined();
    expect(tagProblem('22.04-core-amd64-generic-v2.4.2-rc1')).toBeUndefined();
    expect(tagProblem('v2.4.1')).toBeUndefined();
    expect(tagProblem('v2.4.2-rc1')).toBeUndefined();
    expect(tagProblem('v2.4.2')).toContain('from v2.4.2 Kairos tags start with');
    expect(tagProblem('v3.0.0-k3sv1.28.2-k3s1')).toContain('from v2.4.2');
    // parseTag stays lenient so that listings never hide such a tag.
    expect(parseTag('v2.4.2').kind).toBe('release');
    expect(parseTag('22.04-core-amd64-generic-v1.5.0').kind).toBe('release');
  });
});

const VALID = [
  'v1.4.0',
  'v1.6.0-rc1',
  'v1.5.1-k3sv1.26.1-k3s1',
  'v1.1.7.img',
  'v1.5.0-k3sv1.26.1-k3s1.img',
  '22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1',
  'leap-15.5-core-arm64-rpi4-v2.4.3',
  'leap-15.5-core-arm64-rpi4-v2.4.3-img',
  '3.19-standard-arm64-rpi4-v2.5.0-k3sv1.29.0-k3s1-img',
  'v2.0.0-alpha3',
  'v2.4.0-rc2',
  'v2.0.0-beta1-k3sv1.26.3-k3s1',
  'v2.0.0-beta1-k3sv1.26.3-k3s1.img',
  'v1.0.0-k3sv1.21.14-k3s1',
  'tumbleweed-core-amd64-generic-v2.4.3',
  '22.04-core-arm64-nvidia-jetson-agx-orin-v3.0.0',
  '22.04-standard-amd64-generic-v2.5.0-rc1-k3sv1.29.0-k3s1-img',
];

describe('formatTag', () => {
  it.each(VALID)('round-trips %s', (tag) => {
    expect(tagProblem(tag)).toBeUndefined();
    const parsed = parseTag(tag);
    expect(parsed.kind).not.toBe('noise');
    expect(formatTag(parsed)).toBe(tag);
  });

  it('round-trips noise as written', () => {
    for (const tag of ['latest', 'master', '0a1b2c3', `sha256-${HEX64}.att`, 'weird']) {
      expect(formatTag(parseTag(tag))).toBe(tag);
    }
  });

  it('writes the k3s "+" as "-", the only form a registry can hold', () => {
    expect(formatTag(parseTag('v1.5.1-k3sv1.26.1+k3s1'))).toBe('v1.5.1-k3sv1.26.1-k3s1');
  });

  it('formats a tag built from its fields', () => {
    const base = release('22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1');
    expect(formatTag({ ...base, semver: '2.4.4', k3s: 'v1.28.3+k3s2', arch: 'arm64', model: 'rpi4' })).toBe(
      '22.04-standard-arm64-rpi4-v2.4.4-k3sv1.28.3-k3s2',
    );
  });

  it('imageOf / artifactOf switch between an image tag and its artifact', () => {
    expect(imageOf(release('v1.1.7.img')).raw).toBe('v1.1.7');
    expect(artifactOf(release('v1.5.0-k3sv1.26.1-k3s1')).raw).toBe('v1.5.0-k3sv1.26.1-k3s1.img');
    expect(artifactOf(release('leap-15.5-core-arm64-rpi4-v2.4.3')).raw).toBe('leap-15.5-core-arm64-rpi4-v2.4.3-img');
    expect(imageOf(release('3.19-standard-arm64-rpi4-v2.5.0-k3sv1.29.0-k3s1-img')).raw).toBe(
      '3.19-standard-arm64-rpi4-v2.5.0-k3sv1.29.0-k3s1',
    );
    const plain = release('v1.4.0');
    expect(imageOf(plain)).toBe(plain);
  });
});

describe('classifyTag', () => {
  it.each([
    ['v1.4.0', 'release'],
    ['v1.5.1-k3sv1.26.1-k3s1', 'release'],
    ['22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1', 'release'],
    ['v1.6.0-rc1', 'prerelease'],
    ['v2.0.0-beta1-k3sv1.26.3-k3s1', 'prerelease'],
    ['v1.1.7.img', 'artifact'],
    ['v1.6.0-rc1.img', 'artifact'],
    ['leap-15.5-core-arm64-rpi4-v2.4.3-img', 'artifact'],
    ['latest', 'noise'],
    [`sha256-${HEX64}.sig`, 'noise'],
    ['v1.5', 'noise'],
  ])('%s is %s', (tag, cls) => {
    expect(classifyTag(tag)).toBe(cls);
    expect(classifyTag(parseTag(tag))).toBe(cls);
  });
});

describe('formatTag(parseTag(x)) === x over generated tags of every shape', () => {
  const versions = ['v0.0.1', 'v1.10.0', 'v2.4.2', 'v3.0.0-rc10', 'v2.0.0-alpha.3', 'v12.34.56-beta1'];
  const k3s = ['', '-k3sv1.26.1-k3s1', '-k3sv1.9.10-k3s12'];
  const lines = ['', '22.04-core-amd64-generic-', 'leap-15.5-standard-arm64-rpi4-', '3.19-core-arm64-rpi3-'];
  const cases: string[] = [];
  for (const line of lines) {
    for (const version of versions) {
      for (const k of k3s) {
        if (line.includes('-core-') && k !== '') continue;
        if (line.includes('-standard-') && k === '') continue;
        for (const artifact of ['', line === '' ? '.img' : '-img']) cases.push(`${line}${version}${k}${artifact}`);
      }
    }
  }

  it(`${cases.length} tags`, () => {
    expect(cases.length).toBeGreaterThan(60);
    for (const tag of cases) {
      const parsed = parseTag(tag);
      expect(parsed.kind, tag).not.toBe('noise');
      expect(formatTag(parsed), tag).toBe(tag);
      expect(parsed.raw).toBe(tag);
      if (parsed.kind !== 'noise') {
        expect(parsed.version.includes('-'), tag).toBe(parsed.kind === 'prerelease');
        expect(parsed.artifact, tag).toBe(tag.endsWith('img'));
      }
    }
  });
});
