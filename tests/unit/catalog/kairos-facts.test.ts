// Every Kairos fact flavors/kairos.yaml records for v2.4.2 and later (issue 16), one assertion
// each, with the source the YAML comment names: kairos-io/kairos .github/flavors.json and the
// release workflows at the release tags, kairos-sdk versioneer, kairos-factory-action, kairos-init.
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/kairos/load.js';
import { distributionsAt, knownFlavorReleases, pinFor, resolveImage, tagSearches } from '../../../src/catalog/kairos/resolve.js';
import { newestRelease } from '../../../src/catalog/kairos/discover.js';
import { buildMatrix } from '../../../src/catalog/kairos/matrix.js';
import { formatReference } from '../../../src/reference/reference.js';
import { KairosImgError } from '../../../src/errors.js';
import { formatTag, parseTag, tagProblem, type ReleaseTag } from '../../../src/policy/tag.js';

const catalog = await loadCatalog('kairos');

function ref(req: Parameters<typeof resolveImage>[1]): string {
  return formatReference(resolveImage(catalog, { hostArch: 'amd64', ...req }).reference);
}

function flavor(name: string) {
  const f = catalog.flavors.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no flavor ${name}`);
  return f;
}

function fails(fn: () => unknown): KairosImgError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KairosImgError);
    return e as KairosImgError;
  }
  throw new Error('expected an error');
}

function release(tag: string): ReleaseTag {
  const t = parseTag(tag);
  if (t.kind === 'noise') throw new Error(`${tag} is noise`);
  return t;
}

describe('the issue examples resolve offline', () => {
  it('hadron core v4.1.0 with Hadron v0.2.0 in the flavorRelease position', () => {
    expect(ref({ flavor: 'hadron', variant: 'core', version: 'v4.1.0', flavorRelease: 'v0.2.0' })).toBe('quay.io/kairos/hadron:v0.2.0-core-amd64-generic-v4.1.0');
  });
  it('ubuntu core v3.2.1 on 24.04', () => {
    expect(ref({ flavor: 'ubuntu', variant: 'core', version: 'v3.2.1', flavorRelease: '24.04' })).toBe('quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.2.1');
  });
});

describe('naming eras of the Kubernetes suffix (sdk versioneer; kairos reusable-release.yaml; factory)', () => {
  it('v2.4.2 – v3.3: -k3sv<k3s> (versioneer <prefix><softwareVersion>, SOFTWARE_VERSION="v…+k3s1")', () => {
    expect(ref({ flavor: 'ubuntu-22-lts', variant: 'standard', version: 'v3.3.1', k3s: 'v1.31.4+k3s1' })).toBe('quay.io/kairos/ubuntu:22.04-standard-amd64-generic-v3.3.1-k3sv1.31.4-k3s1');
  });
  it('v3.4.0 – v3.4.1: the version loses its v (sed "s/^v//; s/+/-/g")', () => {
    expect(ref({ flavor: 'opensuse-leap', variant: 'standard', version: 'v3.4.0', k3s: 'v1.32.1+k3s1' })).toBe('quay.io/kairos/opensuse:leap-15.6-standard-amd64-generic-v3.4.0-k3s1.32.1-k3s1');
    expect(ref({ flavor: 'opensuse-leap', variant: 'standard', version: 'v3.4.1', k3s: 'v1.32.1+k3s1' })).toMatch(/-v3\.4\.1-k3s1\.32\.1-k3s1$/);
  });
  it('v3.4.2: the v is back (sed "s/+/-/g")', () => {
    expect(ref({ flavor: 'opensuse-leap', variant: 'standard', version: 'v3.4.2', k3s: 'v1.32.1+k3s1' })).toMatch(/-v3\.4\.2-k3sv1\.32\.1-k3s1$/);
  });
  it('v3.5.0 on: -<distro>-<version> (reusable-release.yaml at v3.5.0, factory DEFAULT_TAG)', () => {
    expect(ref({ flavor: 'opensuse-leap', variant: 'standard', version: 'v3.5.0', k3s: 'v1.33.1+k3s1' })).toMatch(/-v3\.5\.0-k3s-v1\.33\.1-k3s1$/);
    expect(ref({ flavor: 'hadron', variant: 'standard', version: 'v4.1.0', flavorRelease: 'v0.2.0', k3s: 'v1.33.1+k3s1' })).toBe('quay.io/kairos/hadron:v0.2.0-standard-amd64-generic-v4.1.0-k3s-v1.33.1-k3s1');
  });
  it('every naming round-trips through the tag grammar', () => {
    for (const tag of [
      'leap-15.6-standard-amd64-generic-v3.4.0-k3s1.32.1-k3s1',
      '24.10-standard-amd64-generic-v3.4.0-k0s1.32.1-k0s.0',
      'leap-15.6-standard-amd64-generic-v3.4.2-k0sv1.32.1-k0s.0',
      'v0.2.0-standard-amd64-generic-v4.1.0-k0s-v1.33.1-k0s.0',
      'v0.2.0-core-amd64-generic-v4.1.0-uki',
      'v0.2.0-core-arm64-rpi4-v4.1.0-img',
      '22.04-core-arm64-nvidia-jetson-orin-nx-v4.1.0',
    ]) {
      expect(tagProblem(tag)).toBeUndefined();
      expect(formatTag(parseTag(tag))).toBe(tag);
    }
  });
});

describe('the tag grammar reads today\'s tags', () => {
  it('Hadron\'s release in the flavorRelease slot is not the Kairos version', () => {
    expect(release('v0.2.0-core-amd64-generic-v4.1.0')).toMatchObject({ kind: 'release', era: 'v2.4.2+', version: 'v4.1.0', flavorRelease: 'v0.2.0', variant: 'core', arch: 'amd64', model: 'generic' });
  });
  it('k0s in all three forms, k3s without its v', () => {
    expect(release('24.10-standard-amd64-generic-v3.4.0-k0s1.32.1-k0s.0')).toMatchObject({ version: 'v3.4.0', k0s: 'v1.32.1+k0s.0', k8sForm: 'bare' });
    expect(release('v0.2.0-standard-amd64-generic-v4.1.0-k0s-v1.33.1-k0s.0')).toMatchObject({ k0s: 'v1.33.1+k0s.0', k8sForm: 'dashed' });
    expect(release('leap-15.6-standard-amd64-generic-v3.4.0-k3s1.32.1-k3s1')).toMatchObject({ k3s: 'v1.32.1+k3s1', k8sForm: 'bare' });
  });
  it('pre-releases stay pre-releases whatever the Kubernetes suffix looks like (versioneer NoPrereleases looks at the Kairos version only)', () => {
    for (const tag of ['leap-15.6-standard-amd64-generic-v3.5.0-rc1-k3s-v1.33.1-k3s1', 'v0.2.0-standard-amd64-generic-v4.0.0-RC1-k0s-v1.33.1-k0s.0', '23.10-standard-amd64-generic-v3.0.0-beta2-k3sv1.28.2-k3s1']) {
      expect(release(tag).kind).toBe('prerelease');
    }
    expect(release('leap-15.6-standard-amd64-generic-v3.5.0-k3s-v1.33.1-k3s1').kind).toBe('release');
  });
  it('UKI images end in -uki (kairos@v3.0.0 release.yaml SUFFIX="-uki")', () => {
    expect(release('24.04-core-amd64-generic-v3.4.2-uki')).toMatchObject({ uki: true, version: 'v3.4.2' });
    expect(release('24.04-core-amd64-generic-v3.4.2')).not.toHaveProperty('uki');
  });
});

describe('flavors and flavor releases (flavors.json / release.yaml at each tag)', () => {
  const fr = (name: string, version: string): string | undefined => pinFor(flavor(name), version)?.flavorRelease;
  it('opensuse leap 15.5 until v3.1.0, 15.6 from v3.1.0; tumbleweed → tumbleweed-latest at v3.4.0, gone at v3.6.0', () => {
    expect(fr('opensuse-leap', 'v3.0.9')).toBe('leap-15.5');
    expect(fr('opensuse-leap', 'v3.1.0')).toBe('leap-15.6');
    expect(fr('opensuse-arm-rpi', 'v3.4.2')).toBe('leap-15.6');
    expect(fr('opensuse-tumbleweed', 'v3.3.0')).toBe('tumbleweed');
    expect(fr('opensuse-tumbleweed', 'v3.5.0')).toBe('tumbleweed-latest');
    expect(fails(() => ref({ flavor: 'opensuse-tumbleweed', variant: 'core', version: 'v3.6.0' })).code).toBe('FLAVOR_NOT_PUBLISHED');
  });
  it('ubuntu: 23.04 → 23.10 → 24.04 (from v3.0.9) → 24.10 (v3.2.2 – v3.5.3) → 25.10 (v3.6.0); 24.04 has a name', () => {
    expect(knownFlavorReleases(flavor('ubuntu'), 'v2.4.3')).toContain('23.04');
    expect(knownFlavorReleases(flavor('ubuntu'), 'v2.5.0')).toContain('23.10');
    expect(knownFlavorReleases(flavor('ubuntu'), 'v3.1.2')).not.toContain('23.10');
    expect(knownFlavorReleases(flavor('ubuntu'), 'v3.2.2')).toContain('24.10');
    expect(knownFlavorReleases(flavor('ubuntu'), 'v3.5.4')).not.toContain('24.10');
    expect(knownFlavorReleases(flavor('ubuntu'), 'v3.6.0')).toContain('25.10');
    expect(ref({ flavor: 'ubuntu-24-lts', variant: 'core', version: 'v3.0.9' })).toBe('quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.0.9');
    expect(fails(() => ref({ flavor: 'ubuntu-24-lts', variant: 'core', version: 'v3.0.8' })).code).toBe('FLAVOR_NOT_PUBLISHED');
  });
  it('the rolling ubuntu names no release offline: --flavor-release or the registry decides', () => {
    const e = fails(() => ref({ flavor: 'ubuntu', variant: 'core', version: 'v3.2.2' }));
    expect(e.code).toBe('MISSING_INPUT');
    expect(e.hint).toContain('24.04, 24.10');
  });
  it('debian bookworm (and testing) → 12 (v3.4.0) → 13 (v3.7.0)', () => {
    expect(ref({ flavor: 'debian', variant: 'core', version: 'v2.4.3' })).toBe('quay.io/kairos/debian:bookworm-core-amd64-generic-v2.4.3');
    expect(knownFlavorReleases(flavor('debian'), 'v3.3.0')).toEqual(['bookworm', 'testing']);
    expect(ref({ flavor: 'debian', variant: 'core', version: 'v3.4.0' })).toBe('quay.io/kairos/debian:12-core-amd64-generic-v3.4.0');
    expect(ref({ flavor: 'debian', variant: 'core', version: 'v3.7.0' })).toBe('quay.io/kairos/debian:13-core-amd64-generic-v3.7.0');
  });
  it('fedora 38 → 39 (v3.0.9) → 40 (v3.1.0); rockylinux 9; alpine 3.18 → 3.19 (v2.5.0) → 3.21 (v3.4.0)', () => {
    expect([fr('fedora', 'v2.4.2'), fr('fedora', 'v3.0.9'), fr('fedora', 'v3.1.0')]).toEqual(['38', '39', '40']);
    expect(ref({ flavor: 'rockylinux', variant: 'core', version: 'v3.2.0' })).toBe('quay.io/kairos/rockylinux:9-core-amd64-generic-v3.2.0');
    expect([fr('alpine', 'v2.4.2'), fr('alpine', 'v2.5.0'), fr('alpine', 'v3.4.0')]).toEqual(['3.18', '3.19', '3.21']);
    expect(ref({ flavor: 'alpine', variant: 'core', version: 'v3.4.0' })).toBe('quay.io/kairos/alpine:3.21-core-amd64-generic-v3.4.0');
  });
  it('almalinux was published only in the v1 naming (v2.3.0 – v2.4.1)', () => {
    expect(ref({ flavor: 'almalinux', variant: 'core', version: 'v2.4.1' })).toBe('quay.io/kairos/core-almalinux:v2.4.1');
    expect(fails(() => ref({ flavor: 'almalinux', variant: 'core', version: 'v2.4.2' })).code).toBe('FLAVOR_NOT_PUBLISHED');
  });
  it('hadron: v0.0.1 at v3.7.0 … v0.2.0 at v4.1.0, v0.5.1 at v4.2.0; the only generic flavor of v4', () => {
    expect(knownFlavorReleases(flavor('hadron'), 'v3.7.0')).toEqual(['v0.0.1']);
    expect(knownFlavorReleases(flavor('hadron'), 'v4.1.0')).toEqual(['v0.2.0']);
    expect(knownFlavorReleases(flavor('hadron'), 'v4.2.0')).toEqual(['v0.5.1']);
    expect(fails(() => ref({ flavor: 'hadron', variant: 'core', version: 'v3.6.0', flavorRelease: 'v0.0.1' })).code).toBe('FLAVOR_NOT_PUBLISHED');
    const e = fails(() => ref({ flavor: 'opensuse-leap', variant: 'core', version: 'v4.0.0' }));
    expect(e.message).toContain('replaced by hadron at v4.0.0');
  });
  it('a flavor pinned to one release refuses another one', () => {
    expect(fails(() => ref({ flavor: 'ubuntu-22-lts', variant: 'core', version: 'v3.2.1', flavorRelease: '24.04' })).code).toBe('CONFLICTING_OPTIONS');
    expect(ref({ flavor: 'ubuntu-22-lts', variant: 'core', version: 'v3.2.1', flavorRelease: '22.04' })).toBe('quay.io/kairos/ubuntu:22.04-core-amd64-generic-v3.2.1');
  });
});

describe('models, distributions, UKI', () => {
  it('boards are arm64 (every board entry of the matrices): rpi3 from v2.5.0, NVIDIA boards on ubuntu 22.04', () => {
    expect(catalog.modelArches['rpi3']).toEqual(['arm64']);
    expect(ref({ flavor: 'hadron', variant: 'core', version: 'v4.1.0', flavorRelease: 'v0.2.0', model: 'rpi4' })).toBe('quay.io/kairos/hadron:v0.2.0-core-arm64-rpi4-v4.1.0');
    expect(ref({ flavor: 'ubuntu-22-lts', variant: 'core', version: 'v4.1.0', model: 'nvidia-jetson-orin-nx' })).toBe('quay.io/kairos/ubuntu:22.04-core-arm64-nvidia-jetson-orin-nx-v4.1.0');
    expect(fails(() => ref({ flavor: 'hadron', variant: 'core', version: 'v4.1.0', flavorRelease: 'v0.2.0', model: 'rpi4', arch: 'amd64' })).code).toBe('UNSUPPORTED_ARCH');
  });
  it('k0s where Kairos published it (release.yaml build-standard-k0s from v3.4.0; hadron standard-k0s)', () => {
    expect(distributionsAt(catalog, flavor('opensuse-leap'), 'standard', 'v3.3.0')).toEqual(['k3s']);
    expect(distributionsAt(catalog, flavor('opensuse-leap'), 'standard', 'v3.4.0')).toEqual(['k3s', 'k0s']);
    expect(distributionsAt(catalog, flavor('debian'), 'standard', 'v3.4.0')).toEqual(['k3s']);
    expect(ref({ flavor: 'hadron', variant: 'standard', version: 'v4.1.0', flavorRelease: 'v0.2.0', k0s: 'v1.33.1+k0s.0' })).toBe('quay.io/kairos/hadron:v0.2.0-standard-amd64-generic-v4.1.0-k0s-v1.33.1-k0s.0');
    expect(fails(() => ref({ flavor: 'debian', variant: 'standard', version: 'v3.5.0', k0s: 'v1.33.1+k0s.0' })).code).toBe('IMAGE_NOT_PUBLISHED');
  });
  it('UKI images from v3.0.0', () => {
    expect(ref({ flavor: 'ubuntu-24-lts', variant: 'core', version: 'v3.4.2', uki: true })).toBe('quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.4.2-uki');
    expect(fails(() => ref({ flavor: 'ubuntu-22-lts', variant: 'core', version: 'v2.5.0', uki: true })).code).toBe('IMAGE_NOT_PUBLISHED');
  });
  it('-img artifacts stay <tag>-img (FROM scratch from v3.4.0, kairos@v3.4.0:images/Dockerfile.img)', () => {
    expect(ref({ flavor: 'hadron', variant: 'core', version: 'v4.1.0', flavorRelease: 'v0.2.0', model: 'rpi4', kind: 'artifact' })).toBe('quay.io/kairos/hadron:v0.2.0-core-arm64-rpi4-v4.1.0-img');
  });
  it('changelogs: provider-kairos for standard images before v2.4.0, kairos for the rest', () => {
    expect(catalog.changelogs[0]).toMatchObject({ variants: ['standard'], until: 'v2.4.0' });
    expect(catalog.changelogs.at(-1)?.urls).toEqual(['https://github.com/kairos-io/kairos/releases/tag/{version}']);
  });
});

describe('the registry decides what the catalog does not fix', () => {
  const lists = new Map<string, string[]>([[
    'quay.io/kairos/hadron',
    [
      'v0.2.0-core-amd64-generic-v4.1.0', 'v0.3.0-core-amd64-generic-v4.1.1', 'v0.4.0-core-amd64-generic-v4.1.2',
      'v0.4.0-core-amd64-generic-v4.1.2-uki', 'v0.5.1-core-amd64-generic-v4.2.0-rc1', 'v0.4.0-core-arm64-rpi4-v4.1.2-img', 'latest',
    ],
  ]]);
  it('the newest Kairos release, then its flavor release; UKI and pre-releases skipped', () => {
    const s = tagSearches(catalog, { flavor: 'hadron', variant: 'core', arch: 'amd64', uki: false });
    expect(newestRelease(s, lists)?.tag).toBe('v0.4.0-core-amd64-generic-v4.1.2');
  });
  it('newest per flavor release', () => {
    const s = tagSearches(catalog, { flavor: 'hadron', variant: 'core', arch: 'amd64', uki: false, flavorRelease: 'v0.2.0' });
    expect(newestRelease(s, lists)?.tag).toBe('v0.2.0-core-amd64-generic-v4.1.0');
  });
});

describe('flavors --version', () => {
  it('shows the flavors of that release, default the newest', () => {
    const at = (v?: string): string[] => [...new Set(buildMatrix(catalog, v === undefined ? {} : { version: v }).rows.map((r) => r.flavor))];
    expect(at('v3.2.1')).toEqual(expect.arrayContaining(['ubuntu', 'ubuntu-24-lts', 'debian', 'fedora', 'rockylinux', 'opensuse-leap', 'opensuse-tumbleweed', 'alpine']));
    expect(at('v3.2.1')).not.toContain('hadron');
    expect(at()).toEqual(['ubuntu-22-lts', 'hadron']);
    const hadron = buildMatrix(catalog, { version: 'v4.1.0' }).rows.find((r) => r.flavor === 'hadron' && r.variant === 'standard');
    expect(hadron).toMatchObject({ repository: 'quay.io/kairos/hadron', flavorReleases: ['v0.2.0'], kubernetes: ['k3s', 'k0s'] });
  });
});
