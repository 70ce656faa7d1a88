import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/kairos/load.js';
import {
  allPassed,
  checkArch,
  checkKairosRelease,
  checkSignatures,
  checkSupport,
  checkTagGrammar,
  checkUpstreamPin,
  type Check,
} from '../../../src/policy/image-checks.js';
import { flavorByName, identifyFlavor, type FlavorIdentity } from '../../../src/policy/image-flavor.js';
import {
  kairosKeys,
  kairosKeysEra,
  releaseFilesDecided,
  upstreamRelease,
  type ReleaseFiles,
} from '../../../src/policy/release-files.js';
import { parseTag, type ReleaseTag } from '../../../src/policy/tag.js';
import { kairosReleaseEntries, upstreamOsRelease, type KairosImageSpec, type Upstream } from '../../../scripts/fixtures/kairos-shapes.mjs';

const catalog = await loadCatalog('kairos');

function tag(raw: string): ReleaseTag {
  const t = parseTag(raw);
  if (t.kind === 'noise') throw new Error(`not a release tag: ${raw}`);
  return t;
}

/** Release files as an image holds them; paths not named are absent. */
function files(present: Record<string, string>, unknown: string[] = []): ReleaseFiles {
  const out: Record<string, ReleaseFiles[string]> = {};
  for (const p of ['/etc/kairos-release', '/etc/os-release', '/usr/lib/os-release', '/etc/alpine-release']) {
    out[p] = unknown.includes(p) ? { state: 'unknown' } : p in present ? { state: 'present', text: present[p] as string, path: p } : { state: 'absent' };
  }
  return out;
}

/** The release files of a fixture-shaped image (the Kairos layer over the distribution's). */
function imageFiles(spec: KairosImageSpec, extra: Record<string, string> = {}): ReleaseFiles {
  const upstream = upstreamOsRelease(spec.upstream);
  const out: Record<string, string> = { '/usr/lib/os-release': upstream, '/etc/os-release': upstream };
  if (spec.upstream.startsWith('alpine')) out['/etc/alpine-release'] = `${upstream.match(/VERSION_ID=(\S+)/)?.[1] ?? ''}\n`;
  for (const e of kairosReleaseEntries(spec)) out[`/${e.path.replace(/^\//, '')}`] = String(e.content);
  return files({ ...out, ...extra });
}

function spec(raw: string, s: Omit<KairosImageSpec, 'tag' | 'version' | 'repository'> & { repository?: string }): KairosImageSpec {
  const t = tag(raw);
  return { repository: 'kairos/x', tag: raw, version: t.version, ...s };
}

function expectCheck(c: Check, ok: Check['ok'], message?: RegExp): void {
  expect({ ok: c.ok, message: c.message }).toEqual({ ok, message: message === undefined ? expect.any(String) : expect.stringMatching(message) });
}

const opensuse = (version: string): FlavorIdentity => flavorByName(catalog, 'opensuse', version);

describe('tag-grammar', () => {
  it('passes a valid tag of each era and says what it names', () => {
    expectCheck(checkTagGrammar('v1.4.0'), true, /valid Kairos tag \(release, v1\.4\.0, core\)/);
    expectCheck(checkTagGrammar('v1.5.1-k3sv1.26.1-k3s1'), true, /standard, k3s v1\.26\.1\+k3s1/);
    expectCheck(checkTagGrammar('22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1'), true, /22\.04, amd64, generic/);
    expectCheck(checkTagGrammar('v1.6.0-rc1'), true, /pre-release/);
    expectCheck(checkTagGrammar('v1.1.7.img'), true, /disk-image artifact/);
  });

  it('fails an invalid tag with the reason', () => {
    expectCheck(checkTagGrammar('v1.4'), false, /not MAJOR\.MINOR\.PATCH/);
    expectCheck(checkTagGrammar('latest'), false, /moving tag/);
    expectCheck(checkTagGrammar('1.4.0'), false, /lacks the "v"/);
    expectCheck(checkTagGrammar('v2.5.0'), false, /from v2\.4\.2 Kairos tags start with/);
    expectCheck(checkTagGrammar('leap-15.4-core-amd64-generic-v2.3.0'), false, /start at v2\.4\.2/);
  });

  it('is skipped for a digest reference', () => {
    expectCheck(checkTagGrammar(undefined), 'skipped', /digest/);
  });
});

describe('support', () => {
  const core = ['v1.3.2', 'v1.4.0', 'v1.4.1', 'v1.5.0-rc1', 'latest', `sha256-${'a'.repeat(64)}.sig`];
  const standard = ['v1.5.0-k3sv1.25.6-k3s1', 'v1.5.0-k3sv1.26.0-k3s1', 'v1.5.0-k3sv1.26.1-k3s1', 'v1.4.0-k3sv1.26.0-k3s1'];

  it('passes the newest patch of the latest branch', () => {
    expectCheck(checkSupport('v1.4.1', core), true, /^supported: v1\.4\.1 is the newest patch/);
    expectCheck(checkSupport('v1.5.0-k3sv1.26.1-k3s1', standard), true, /newest k3s 1\.26 patch/);
  });

  it('fails an outdated patch, an unsupported branch and a pre-release, naming the upgrade', () => {
    expectCheck(checkSupport('v1.4.0', core), false, /^outdated patch: .*upgrade to v1\.4\.1$/);
    expectCheck(checkSupport('v1.3.2', core), false, /^unsupported branch: .*only the latest release branch v1\.4.*upgrade to v1\.4\.1$/);
    // A pre-release newer than the newest release is told to use that release (issue 16), not to "upgrade" to an older one.
    expectCheck(checkSupport('v1.5.0-rc1', core), false, /^pre-release: .*; use v1\.4\.1$/);
  });

  it('fails an outdated k3s patch and a k3s the release does not publish', () => {
    expectCheck(checkSupport('v1.5.0-k3sv1.26.0-k3s1', standard), false, /^outdated k3s: k3s v1\.26\.0\+k3s1 is older than v1\.26\.1\+k3s1.*upgrade to v1\.5\.0-k3sv1\.26\.1-k3s1$/);
    expectCheck(checkSupport('v1.5.0-k3sv1.24.1-k3s1', standard), false, /^unknown k3s: /);
  });

  it('is skipped for an invalid tag and a digest reference', () => {
    expectCheck(checkSupport('master', core), 'skipped', /not a Kairos tag/);
    expectCheck(checkSupport(undefined, core), 'skipped', /digest/);
  });
});

describe('release files', () => {
  it('knows where each era keeps the Kairos keys', () => {
    expect(['v1.0.0', 'v2.0.0', 'v2.0.1', 'v3.2.1', 'v3.2.2', 'v3.4.2'].map(kairosKeysEra)).toEqual([
      'v1-os-release', 'v1-os-release', 'v2-kairos-keys', 'v2-kairos-keys', 'v3-kairos-release', 'v3-kairos-release',
    ]);
  });

  it('reads the keys of every era, the newest place first', () => {
    const v1 = imageFiles(spec('v1.4.0', { flavor: 'opensuse', variant: 'core', upstream: 'opensuse-leap-15.4' }));
    expect(kairosKeys(v1)).toMatchObject({ era: 'v1-os-release', version: { key: 'VERSION', value: 'v1.4.0' }, flavor: { value: 'opensuse' }, variant: { value: 'core' }, label: { key: 'IMAGE_LABEL', value: 'v1.4.0' } });
    const v2 = imageFiles(spec('v2.3.0', { flavor: 'ubuntu-22-lts', variant: 'core', upstream: 'ubuntu-22.04' }));
    expect(kairosKeys(v2)).toMatchObject({ era: 'v2-kairos-keys', file: '/etc/os-release', version: { key: 'KAIROS_VERSION', value: 'v2.3.0' } });
    const v3 = imageFiles(spec('leap-15.6-core-arm64-rpi4-v3.4.2', { flavor: 'opensuse', variant: 'core', upstream: 'opensuse-leap-15.6', arch: 'arm64', model: 'rpi4', flavorRelease: 'leap-15.6' }));
    expect(kairosKeys(v3)).toMatchObject({ era: 'v3-kairos-release', file: '/etc/kairos-release', arch: { key: 'KAIROS_TARGETARCH', value: 'arm64' }, model: { value: 'rpi4' }, flavorRelease: { value: 'leap-15.6' } });
    expect(kairosKeys(files({ '/etc/os-release': upstreamOsRelease('ubuntu-22.04') }))).toBeUndefined();
  });

  it('takes the upstream release from /usr/lib/os-release, else /etc/alpine-release, else /etc/os-release', () => {
    expect(upstreamRelease(files({ '/usr/lib/os-release': upstreamOsRelease('opensuse-leap-15.5'), '/etc/os-release': 'ID=kairos\n' }))).toMatchObject({ id: 'opensuse-leap', versionId: '15.5', file: '/usr/lib/os-release' });
    expect(upstreamRelease(files({ '/etc/alpine-release': '3.18.4\n' }))).toMatchObject({ id: 'alpine', versionId: '3.18.4', file: '/etc/alpine-release' });
    expect(upstreamRelease(files({ '/etc/os-release': upstreamOsRelease('ubuntu-20.04') }))).toMatchObject({ id: 'ubuntu', versionId: '20.04', file: '/etc/os-release' });
    expect(upstreamRelease(files({ '/etc/os-release': 'ID=kairos\nVERSION=v1.0.0\n' }))).toBeUndefined();
  });

  it('decides when the layers read so far are enough', () => {
    const upstream = upstreamOsRelease('ubuntu-22.04');
    // v2: keys in /etc/os-release, upstream in /usr/lib/os-release: /etc/kairos-release need not be known.
    expect(releaseFilesDecided(files({ '/etc/os-release': 'KAIROS_VERSION=v2.3.0\n', '/usr/lib/os-release': upstream }, ['/etc/kairos-release', '/etc/alpine-release']), 'v2.3.0')).toBe(true);
    expect(releaseFilesDecided(files({ '/etc/os-release': 'KAIROS_VERSION=v2.3.0\n' }, ['/usr/lib/os-release']), 'v2.3.0')).toBe(false);
    // v3: /etc/kairos-release must be decided.
    expect(releaseFilesDecided(files({ '/etc/os-release': upstream, '/usr/lib/os-release': upstream }, ['/etc/kairos-release']), 'v3.4.2')).toBe(false);
    expect(releaseFilesDecided(files({ '/etc/kairos-release': 'KAIROS_VERSION=v3.4.2\n', '/usr/lib/os-release': upstream }, ['/etc/os-release', '/etc/alpine-release']), 'v3.4.2')).toBe(true);
    // No /usr/lib/os-release: /etc/alpine-release and /etc/os-release must be decided.
    expect(releaseFilesDecided(files({ '/etc/os-release': 'ID=kairos\n' }, ['/etc/alpine-release']), 'v1.5.0')).toBe(false);
    expect(releaseFilesDecided(files({ '/etc/os-release': 'ID=kairos\n', '/etc/alpine-release': '3.17.1' }), 'v1.5.0')).toBe(true);
    // Without a version both places of the keys count.
    expect(releaseFilesDecided(files({ '/etc/os-release': 'ID=kairos\n', '/usr/lib/os-release': upstream }, ['/etc/kairos-release']))).toBe(false);
  });
});

describe('kairos-release', () => {
  it('passes v1 keys in /etc/os-release that agree with the tag', () => {
    const t = 'v1.4.0';
    const c = checkKairosRelease({ tag: tag(t), files: imageFiles(spec(t, { flavor: 'opensuse', variant: 'core', upstream: 'opensuse-leap-15.4' })), flavor: opensuse('v1.4.0') });
    expectCheck(c, true, /^\/etc\/os-release: VERSION=v1\.4\.0, FLAVOR=opensuse, VARIANT=core agree with the tag$/);
  });

  it('accepts a standard image whose VERSION carries the k3s suffix, and refuses a different k3s', () => {
    const t = tag('v1.5.0-k3sv1.26.1-k3s1');
    const base = spec(t.raw, { flavor: 'opensuse', variant: 'standard', upstream: 'opensuse-leap-15.4', k3s: 'v1.26.1+k3s1' });
    expectCheck(checkKairosRelease({ tag: t, files: imageFiles(base), flavor: opensuse('v1.5.0') }), true);
    expectCheck(checkKairosRelease({ tag: t, files: imageFiles({ ...base, osReleaseVersion: 'v1.5.0-k3sv1.26.1+k3s1' }), flavor: opensuse('v1.5.0') }), true);
    expectCheck(checkKairosRelease({ tag: t, files: imageFiles({ ...base, osReleaseVersion: 'v1.5.0-k3sv1.25.6+k3s1' }), flavor: opensuse('v1.5.0') }), false, /says k3s v1\.25\.6\+k3s1, the tag v1\.26\.1\+k3s1/);
  });

  it('fails a v2 image whose KAIROS_VERSION contradicts its tag (kairos/core-ubuntu-22-lts:v2.3.1)', () => {
    const t = tag('v2.3.1');
    const f = imageFiles(spec('v2.3.1', { flavor: 'ubuntu-22-lts', variant: 'core', upstream: 'ubuntu-22.04', osReleaseVersion: 'v2.3.0' }));
    expectCheck(checkKairosRelease({ tag: t, files: f, flavor: flavorByName(catalog, 'ubuntu-22-lts', 'v2.3.1') }), false, /KAIROS_VERSION="v2\.3\.0" says v2\.3\.0, the tag v2\.3\.1/);
  });

  it('passes v3 keys in /etc/kairos-release and accepts the family as flavor for v2.4.2+ names', () => {
    const raw = '22.04-core-amd64-generic-v3.2.2';
    const t = tag(raw);
    const f = imageFiles(spec(raw, { flavor: 'ubuntu', variant: 'core', upstream: 'ubuntu-22.04', flavorRelease: '22.04', arch: 'amd64', model: 'generic' }));
    const id = identifyFlavor(catalog, 'kairos/ubuntu', t);
    expect(id.names).toEqual(['ubuntu-22-lts', 'ubuntu']);
    expectCheck(checkKairosRelease({ tag: t, files: f, flavor: id }), true, /^\/etc\/kairos-release: KAIROS_VERSION=v3\.2\.2, KAIROS_FLAVOR=ubuntu/);
  });

  it('fails keys that sit where another era puts them', () => {
    // A v3.2.2+ tag whose keys are appended to /etc/os-release (v2 style).
    const v2files = imageFiles(spec('v2.3.0', { flavor: 'ubuntu-22-lts', variant: 'core', upstream: 'ubuntu-22.04', osReleaseVersion: 'v3.3.0' }));
    const t3 = tag('22.04-core-amd64-generic-v3.3.0');
    expectCheck(checkKairosRelease({ tag: t3, files: v2files, flavor: identifyFlavor(catalog, 'kairos/ubuntu', t3) }), false, /KAIROS_ keys in \/etc\/os-release .* but a v3\.3\.0 image carries KAIROS_ keys in \/etc\/kairos-release/);
    // A v1 tag with KAIROS_ keys.
    const t1 = tag('v1.4.0');
    const f1 = files({ '/etc/os-release': 'ID=opensuse-leap\nKAIROS_VERSION=v1.4.0\nKAIROS_FLAVOR=opensuse\nKAIROS_VARIANT=core\n' });
    expectCheck(checkKairosRelease({ tag: t1, files: f1, flavor: opensuse('v1.4.0') }), false, /but a v1\.4\.0 image carries unprefixed keys in \/etc\/os-release/);
  });

  it('fails an image without Kairos keys, naming where they belong', () => {
    expectCheck(checkKairosRelease({ tag: tag('v2.3.0'), files: files({ '/etc/os-release': upstreamOsRelease('ubuntu-22.04') }), flavor: flavorByName(catalog, 'ubuntu-22-lts', 'v2.3.0') }), false, /no Kairos release keys in the image; a v2\.3\.0 image carries KAIROS_ keys in \/etc\/os-release/);
  });

  it('fails a flavor, variant, label, flavor release, arch or model that contradicts the name', () => {
    const t = tag('v1.4.0');
    const v1 = (body: string): ReleaseFiles => files({ '/etc/os-release': `ID=kairos\n${body}` });
    const check = (body: string, id = opensuse('v1.4.0')) => checkKairosRelease({ tag: t, files: v1(body), flavor: id });
    expectCheck(check('VERSION=v1.4.0\nFLAVOR=ubuntu\nVARIANT=core\n'), false, /FLAVOR="ubuntu", but the image is named as opensuse$/);
    expectCheck(check('VERSION=v1.4.0\nFLAVOR=opensuse\nVARIANT=standard\n'), false, /VARIANT="standard", the tag names a core image/);
    expectCheck(check('VERSION=v1.4.0\nFLAVOR=opensuse\nVARIANT=core\nIMAGE_LABEL=v1.3.2\n'), false, /IMAGE_LABEL="v1\.3\.2" says v1\.3\.2/);
    expectCheck(check('VERSION=v1.4.0\nFLAVOR=opensuse\nVARIANT=core\nIMAGE_LABEL=latest\n'), true);
    expectCheck(check('VERSION=1.4.0\nFLAVOR=opensuse\nVARIANT=core\n'), true);
    expectCheck(check('VERSION=v1.4.0-5-g3f2a1c9\nFLAVOR=opensuse\nVARIANT=core\n'), false, /VERSION="v1\.4\.0-5-g3f2a1c9" is not a Kairos version/);
    expectCheck(check('FLAVOR=opensuse\n'), false, /no version key; no variant key/);
    expectCheck(check('VERSION=v1.4.0\nVARIANT=core\n'), false, /no flavor key/);
    const unknownFlavor = identifyFlavor(catalog, 'kairos/core-nosuch', t);
    expectCheck(check('VERSION=v1.4.0\nFLAVOR=nosuch\nVARIANT=core\n', { ...unknownFlavor, names: [] }), true, /flavor not compared/);

    const t3 = tag('leap-15.5-core-arm64-rpi4-v2.5.0');
    const id3 = identifyFlavor(catalog, 'kairos/opensuse', t3);
    const keys = (over: Record<string, string>) => files({
      '/etc/os-release': Object.entries({ KAIROS_VERSION: 'v2.5.0', KAIROS_FLAVOR: 'opensuse', KAIROS_VARIANT: 'core', KAIROS_FLAVOR_RELEASE: 'leap-15.5', KAIROS_TARGETARCH: 'arm64', KAIROS_MODEL: 'rpi4', ...over }).map(([k, v]) => `${k}="${v}"`).join('\n'),
    });
    expectCheck(checkKairosRelease({ tag: t3, files: keys({}), flavor: id3 }), true);
    expectCheck(checkKairosRelease({ tag: t3, files: keys({ KAIROS_FLAVOR_RELEASE: 'leap-15.4' }), flavor: id3 }), false, /KAIROS_FLAVOR_RELEASE="leap-15\.4", the tag's flavor release is leap-15\.5/);
    expectCheck(checkKairosRelease({ tag: t3, files: keys({ KAIROS_TARGETARCH: 'amd64' }), flavor: id3 }), false, /KAIROS_TARGETARCH="amd64", the tag's arch is arm64/);
    expectCheck(checkKairosRelease({ tag: t3, files: keys({ KAIROS_TARGETARCH: 'aarch64' }), flavor: id3 }), true);
    expectCheck(checkKairosRelease({ tag: t3, files: keys({ KAIROS_MODEL: 'rpi3' }), flavor: id3 }), false, /KAIROS_MODEL="rpi3", the tag's model is rpi4/);
  });
});

describe('upstream-pin', () => {
  const facts = (raw: string, upstream: Upstream, flavor: FlavorIdentity, s: Partial<KairosImageSpec> = {}) => ({
    tag: tag(raw),
    files: imageFiles(spec(raw, { flavor: 'x', variant: 'core', upstream, ...s })),
    flavor,
  });

  it('passes when the distribution release is the pin (MAJOR.MINOR)', () => {
    expectCheck(checkUpstreamPin(facts('v1.4.0', 'opensuse-leap-15.4', opensuse('v1.4.0'))), true, /^opensuse-leap 15\.4 \(\/usr\/lib\/os-release\) matches the pin of opensuse v1\.4\.0: opensuse-leap 15\.4$/);
    expectCheck(checkUpstreamPin(facts('v2.3.0', 'ubuntu-22.04', flavorByName(catalog, 'ubuntu-22-lts', 'v2.3.0'))), true, /ubuntu 22\.04/);
    const t = tag('3.18-core-amd64-generic-v2.4.3');
    const alpine = identifyFlavor(catalog, 'kairos/alpine', t);
    // Alpine 3.18.4 fits the 3.18 pin, read from /etc/alpine-release alone.
    expectCheck(checkUpstreamPin({ tag: t, files: files({ '/etc/alpine-release': '3.18.4\n' }), flavor: alpine }), true, /^alpine 3\.18\.4 \(\/etc\/alpine-release\) matches the pin of alpine or alpine-opensuse-leap or alpine-ubuntu v2\.4\.3: alpine 3\.18$/);
  });

  it('fails a distribution release that contradicts the pin (kairos/core-opensuse-leap:v2.3.0)', () => {
    expectCheck(checkUpstreamPin(facts('v2.3.0', 'opensuse-leap-15.4', flavorByName(catalog, 'opensuse-leap', 'v2.3.0'))), false, /^\/usr\/lib\/os-release: opensuse-leap 15\.4, but opensuse-leap v2\.3\.0 is pinned to opensuse-leap 15\.5$/);
    expectCheck(checkUpstreamPin(facts('v2.5.0', 'alpine-3.18', flavorByName(catalog, 'alpine-ubuntu', 'v2.5.0'))), false, /alpine 3\.18\.4, but alpine-ubuntu v2\.5\.0 is pinned to alpine 3\.19/);
  });

  it('fails another distribution, a missing release file, and a VERSION_ID without a release', () => {
    expectCheck(checkUpstreamPin(facts('v2.3.0', 'ubuntu-22.04', flavorByName(catalog, 'opensuse-leap', 'v2.3.0'))), false, /ID=ubuntu, but opensuse-leap v2\.3\.0 is pinned to opensuse-leap 15\.5/);
    expectCheck(checkUpstreamPin({ tag: tag('v2.3.0'), files: files({ '/etc/os-release': 'ID=kairos\n' }), flavor: flavorByName(catalog, 'ubuntu-22-lts', 'v2.3.0') }), false, /no upstream release file/);
    expectCheck(checkUpstreamPin({ tag: tag('v2.3.0'), files: files({ '/usr/lib/os-release': 'ID=ubuntu\n' }), flavor: flavorByName(catalog, 'ubuntu-22-lts', 'v2.3.0') }), false, /VERSION_ID="" names no release/);
  });

  it('is skipped for an unpinned flavor, saying what the image has', () => {
    expectCheck(checkUpstreamPin(facts('v2.3.0', 'ubuntu-23.10', flavorByName(catalog, 'ubuntu', 'v2.3.0'))), 'skipped', /^ubuntu is unpinned at v2\.3\.0: it tracks upstream ubuntu; the image has ubuntu 23\.10$/);
    expectCheck(checkUpstreamPin(facts('v1.5.0', 'alpine-3.17', flavorByName(catalog, 'alpine-arm-rpi', 'v1.5.0'))), 'skipped', /unpinned.*alpine 3\.17\.1/);
  });

  it('is skipped when the flavor is unknown or its candidates disagree', () => {
    // (issue 16 added leap-15.6, which this test used as the unknown release: an invented one now)
    const t = tag('leap-15.7-core-arm64-rpi4-v3.4.2');
    expectCheck(checkUpstreamPin({ tag: t, files: files({}), flavor: identifyFlavor(catalog, 'kairos/opensuse', t) }), 'skipped', /flavor unknown: no opensuse flavor of the catalog is pinned to "leap-15\.7"/);
    const two = { candidates: [...opensuse('v1.4.0').candidates, ...flavorByName(catalog, 'ubuntu', 'v1.4.0').candidates], names: [] };
    expectCheck(checkUpstreamPin({ tag: tag('v1.4.0'), files: files({}), flavor: two }), 'skipped', /opensuse or ubuntu have different pins/);
  });
});

describe('arch', () => {
  const ubuntu = (raw: string) => identifyFlavor(catalog, 'kairos/ubuntu', tag(raw));
  it('passes a config arch that the tag, --arch and the flavor agree on', () => {
    expectCheck(checkArch({ configArch: 'amd64', tag: tag('v1.4.0'), flavor: opensuse('v1.4.0') }), true, /^amd64 \(config\) matches flavor opensuse \(amd64, arm64\)$/);
    const raw = '22.04-core-arm64-generic-v2.4.3';
    expectCheck(checkArch({ configArch: 'arm64', tag: tag(raw), flavor: ubuntu(raw), requested: 'aarch64' }), true, /matches the tag and --arch and flavor ubuntu-22-lts/);
  });

  it('fails a config arch the tag, --arch or the flavor contradicts', () => {
    const raw = '22.04-core-arm64-generic-v2.4.3';
    expectCheck(checkArch({ configArch: 'amd64', tag: tag(raw), flavor: ubuntu(raw) }), false, /^the config says amd64, but the tag says arm64$/);
    expectCheck(checkArch({ configArch: 'amd64', tag: tag('v1.5.0'), flavor: flavorByName(catalog, 'alpine-arm-rpi', 'v1.5.0') }), false, /alpine-arm-rpi ships arm64 only/);
    expectCheck(checkArch({ configArch: 'amd64', tag: tag('v1.4.0'), flavor: opensuse('v1.4.0'), requested: 'arm64' }), false, /--arch asked for arm64/);
    expectCheck(checkArch({ configArch: '', tag: tag('v1.4.0'), flavor: opensuse('v1.4.0') }), false, /names no architecture/);
    expectCheck(checkArch({ configArch: undefined, tag: tag('v1.4.0'), flavor: opensuse('v1.4.0') }), false, /names no architecture/);
  });

  it('is skipped when there is nothing to compare with', () => {
    const t = tag('v1.4.0');
    expectCheck(checkArch({ configArch: 'amd64', tag: t, flavor: identifyFlavor(catalog, 'kairos/core-nosuch', t) }), 'skipped', /nothing to compare with \(flavor unknown: the catalog has no flavor "nosuch"/);
  });
});

describe('signatures (information)', () => {
  const hex = 'ab'.repeat(32);
  const digest = `sha256:${hex}`;
  it('names the cosign attachment tags that exist for the digest, and never fails', () => {
    const none = checkSignatures(digest, ['v1.4.0', `sha256-${'cd'.repeat(32)}.sig`]);
    expect(none).toEqual({ id: 'signatures', ok: true, info: true, message: expect.stringMatching(/^no cosign signature, SBOM or attestation tag for sha256:abab/) });
    expect(checkSignatures(digest, [`sha256-${hex}.sig`]).message).toMatch(/^signature \(sha256-abababababab….sig\); missing: SBOM, attestation$/);
    const all = checkSignatures(digest, [`sha256-${hex}.sig`, `sha256-${hex}.sbom`, `sha256-${hex}.att`]);
    expect(all.message).toMatch(/signature .*, SBOM .*, attestation .*; missing: none$/);
    expect(all.ok).toBe(true);
  });

  it('is skipped for digests cosign does not name tags after', () => {
    expect(checkSignatures(`sha512:${'a'.repeat(128)}`, [])).toMatchObject({ ok: 'skipped', info: true });
  });
});

describe('flavor identity', () => {
  it('reads v1 repositories core-<flavor> and kairos-<flavor>', () => {
    expect(identifyFlavor(catalog, 'kairos/core-opensuse', tag('v1.4.0'))).toMatchObject({ names: ['opensuse'], pin: { os: 'opensuse-leap', release: '15.4' }, arches: ['amd64', 'arm64'] });
    expect(identifyFlavor(catalog, 'kairos/kairos-ubuntu-22-lts', tag('v1.5.1-k3sv1.26.1-k3s1')).names).toEqual(['ubuntu-22-lts']);
    expect(identifyFlavor(catalog, 'kairos/core-opensuse-arm-rpi-img', tag('v2.3.0')).names).toEqual(['opensuse-arm-rpi']);
  });

  it('says why a v1 repository names no flavor', () => {
    expect(identifyFlavor(catalog, 'test/layers-oci', tag('v1.0.0')).reason).toMatch(/not named core-<flavor> or kairos-<flavor>/);
    expect(identifyFlavor(catalog, 'kairos/core-nosuch', tag('v1.0.0')).reason).toMatch(/no flavor "nosuch"/);
    expect(identifyFlavor(catalog, 'kairos/kairos-opensuse', tag('v1.4.0')).reason).toMatch(/holds standard images but the tag names a core image/);
  });

  it('finds the v2.4.2+ flavor by family, flavor release and model', () => {
    expect(identifyFlavor(catalog, 'kairos/ubuntu', tag('22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1')).candidates.map((f) => f.name)).toEqual(['ubuntu-22-lts']);
    expect(identifyFlavor(catalog, 'kairos/ubuntu', tag('23.04-core-amd64-generic-v2.4.3')).candidates.map((f) => f.name)).toEqual(['ubuntu']);
    expect(identifyFlavor(catalog, 'kairos/opensuse', tag('leap-15.5-core-arm64-rpi4-v2.4.3')).candidates.map((f) => f.name)).toEqual(['opensuse-arm-rpi']);
    expect(identifyFlavor(catalog, 'kairos/opensuse', tag('leap-15.5-core-amd64-generic-v2.4.3')).candidates.map((f) => f.name)).toEqual(['opensuse-leap']);
    const alpine = identifyFlavor(catalog, 'kairos/alpine', tag('3.19-core-amd64-generic-v2.5.0'));
    // issue 16: the pure Alpine flavor of the v2.4.2+ matrices is in the catalog too
    expect(alpine.candidates.map((f) => f.name)).toEqual(['alpine', 'alpine-opensuse-leap', 'alpine-ubuntu']);
    expect(alpine.pin).toMatchObject({ os: 'alpine', release: '3.19' });
  });

  it('says why a v2.4.2+ reference names no flavor', () => {
    // issue 16 added debian and leap-15.6 to the catalog, which this test used as unknown: invented ones now
    expect(identifyFlavor(catalog, 'kairos/gentoo', tag('23.0-core-amd64-generic-v2.4.3')).reason).toMatch(/"gentoo" is no flavor family/);
    expect(identifyFlavor(catalog, 'kairos/opensuse', tag('leap-15.7-core-arm64-rpi4-v3.4.2')).reason).toMatch(/pinned to "leap-15\.7" with model rpi4 at v3\.4\.2/);
  });

  it('names a catalog flavor directly, with its family from v2.4.2', () => {
    expect(flavorByName(catalog, 'ubuntu-22-lts', 'v2.3.0').names).toEqual(['ubuntu-22-lts']);
    expect(flavorByName(catalog, 'ubuntu-22-lts', 'v2.4.3').names).toEqual(['ubuntu-22-lts', 'ubuntu']);
    expect(flavorByName(catalog, 'nosuch', 'v2.4.3').reason).toMatch(/no flavor "nosuch"/);
  });
});

describe('allPassed', () => {
  it('fails only on a failed check; skipped and information checks do not fail', () => {
    const c = (ok: Check['ok']): Check => ({ id: 'arch', ok, message: '' });
    expect(allPassed([c(true), c('skipped'), { id: 'signatures', ok: true, message: '', info: true }])).toBe(true);
    expect(allPassed([c(true), c(false)])).toBe(false);
    expect(allPassed([])).toBe(true);
  });
});
