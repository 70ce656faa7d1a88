import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/catalog/kairos/load.js';
import { resolveImage, tagSearches } from '../../../src/catalog/kairos/resolve.js';
import { nearestName } from '../../../src/catalog/names.js';
import { newestRelease } from '../../../src/catalog/kairos/discover.js';
import { formatReference, repositoryName } from '../../../src/reference/reference.js';
import { KairosImgError } from '../../../src/errors.js';

const catalog = await loadCatalog('kairos');

function ref(req: Parameters<typeof resolveImage>[1]): string {
  return formatReference(resolveImage(catalog, req).reference);
}

function usage(fn: () => unknown): KairosImgError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KairosImgError);
    expect((e as KairosImgError).kind).toBe('usage');
    return e as KairosImgError;
  }
  throw new Error('expected a usage error');
}

// The seed document's table (kairos-image-support-matrix.md), verbatim.
const SEED: Array<[string, string, string]> = [
  ['opensuse', 'quay.io/kairos/core-opensuse', 'quay.io/kairos/kairos-opensuse'],
  ['ubuntu', 'quay.io/kairos/core-ubuntu', 'quay.io/kairos/kairos-ubuntu'],
  ['ubuntu-22-lts', 'quay.io/kairos/core-ubuntu-22-lts', 'quay.io/kairos/kairos-ubuntu-22-lts'],
  ['ubuntu-20-lts', 'quay.io/kairos/core-ubuntu-20-lts', 'quay.io/kairos/kairos-ubuntu-20-lts'],
  ['alpine-opensuse-leap', 'quay.io/kairos/core-alpine-opensuse-leap', 'quay.io/kairos/kairos-alpine-opensuse-leap'],
  ['alpine-ubuntu', 'quay.io/kairos/core-alpine-ubuntu', 'quay.io/kairos/kairos-alpine-ubuntu'],
  ['opensuse-arm-rpi', 'quay.io/kairos/core-opensuse-arm-rpi', 'quay.io/kairos/kairos-opensuse-arm-rpi'],
  ['alpine-arm-rpi', 'quay.io/kairos/core-alpine-arm-rpi', 'quay.io/kairos/kairos-alpine-arm-rpi'],
];

describe('seed table: every flavor × variant resolves to the seed repository (v1 era)', () => {
  for (const [flavor, core, standard] of SEED) {
    it(`${flavor} core`, () => {
      const r = resolveImage(catalog, { flavor, variant: 'core', version: 'v1.4.0' });
      expect(repositoryName(r.reference)).toBe(core);
      expect(r.reference.tag).toBe('v1.4.0');
      expect(r.era).toBe('v1');
    });
    it(`${flavor} standard`, () => {
      const r = resolveImage(catalog, { flavor, variant: 'standard', version: 'v1.4.0', k3s: 'v1.25.5+k3s1' });
      expect(repositoryName(r.reference)).toBe(standard);
      expect(r.reference.tag).toBe('v1.4.0-k3sv1.25.5-k3s1');
    });
  }
});

describe('eras', () => {
  it('v1 standard, the issue example', () => {
    expect(ref({ flavor: 'ubuntu-22-lts', variant: 'standard', version: 'v1.5.1', k3s: 'v1.26.1+k3s1' }))
      .toBe('quay.io/kairos/kairos-ubuntu-22-lts:v1.5.1-k3sv1.26.1-k3s1');
  });
  it('accepts the k3s version in tag form and without the leading v in the Kairos version', () => {
    expect(ref({ flavor: 'ubuntu-22-lts', variant: 'standard', version: '1.5.1', k3s: 'v1.26.1-k3s1' }))
      .toBe('quay.io/kairos/kairos-ubuntu-22-lts:v1.5.1-k3sv1.26.1-k3s1');
  });
  it('v2.4.2+ core on amd64, the issue example', () => {
    expect(ref({ flavor: 'ubuntu-22-lts', variant: 'core', version: 'v2.4.3', hostArch: 'x64' }))
      .toBe('quay.io/kairos/ubuntu:22.04-core-amd64-generic-v2.4.3');
  });
  it('v2.4.2+ standard', () => {
    expect(ref({ flavor: 'ubuntu-22-lts', variant: 'standard', version: 'v2.4.3', arch: 'amd64', k3s: 'v1.28.2+k3s1' }))
      .toBe('quay.io/kairos/ubuntu:22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1');
  });
  it('v2.4.2+ rpi: opensuse leap-15.5 arm64 rpi4 by default', () => {
    expect(ref({ flavor: 'opensuse-arm-rpi', variant: 'core', version: 'v2.4.3', hostArch: 'x64' }))
      .toBe('quay.io/kairos/opensuse:leap-15.5-core-arm64-rpi4-v2.4.3');
    expect(ref({ flavor: 'opensuse-arm-rpi', variant: 'core', version: 'v2.4.3', model: 'rpi3' }))
      .toBe('quay.io/kairos/opensuse:leap-15.5-core-arm64-rpi3-v2.4.3');
  });
  it('the era boundary at v2.4.2 follows the version', () => {
    expect(ref({ flavor: 'ubuntu-20-lts', variant: 'core', version: 'v2.4.1', arch: 'amd64' })).toBe('quay.io/kairos/core-ubuntu-20-lts:v2.4.1');
    expect(ref({ flavor: 'ubuntu-20-lts', variant: 'core', version: 'v2.4.2', arch: 'amd64' })).toBe('quay.io/kairos/ubuntu:20.04-core-amd64-generic-v2.4.2');
  });
  it('flavor pins by release: opensuse-leap 15.4 before v2.3, 15.5 from v2.3', () => {
    expect(resolveImage(catalog, { flavor: 'opensuse-leap', variant: 'core', version: 'v2.2.1' }).pin?.release).toBe('15.4');
    expect(resolveImage(catalog, { flavor: 'opensuse-leap', variant: 'core', version: 'v2.3.0' }).pin?.release).toBe('15.5');
    expect(resolveImage(catalog, { flavor: 'alpine-ubuntu', variant: 'core', version: 'v2.4.3', arch: 'amd64' }).pin?.release).toBe('3.18');
    expect(resolveImage(catalog, { flavor: 'alpine-ubuntu', variant: 'core', version: 'v2.5.0', arch: 'amd64' }).pin?.release).toBe('3.19');
    expect(resolveImage(catalog, { flavor: 'alpine-ubuntu', variant: 'core', version: 'v2.4.1', arch: 'amd64' }).pin?.release).toBeNull();
  });
});

describe('artifacts by era', () => {
  it('v1: <tag>.img in the same repository', () => {
    expect(ref({ flavor: 'alpine-arm-rpi', variant: 'core', version: 'v1.1.7', kind: 'artifact' })).toBe('quay.io/kairos/core-alpine-arm-rpi:v1.1.7.img');
    expect(ref({ flavor: 'opensuse-arm-rpi', variant: 'standard', version: 'v1.5.1', k3s: 'v1.26.1+k3s1', kind: 'artifact' }))
      .toBe('quay.io/kairos/kairos-opensuse-arm-rpi:v1.5.1-k3sv1.26.1-k3s1.img');
  });
  it('v2.0.0-alpha3 – v2.4.1: core-<flavor>-img; standard still <tag>.img in v2.0.0, kairos-<flavor>-img from v2.0.1', () => {
    expect(ref({ flavor: 'opensuse-arm-rpi', variant: 'core', version: 'v2.0.0-alpha3', kind: 'artifact' })).toBe('quay.io/kairos/core-opensuse-arm-rpi-img:v2.0.0-alpha3');
    expect(ref({ flavor: 'opensuse-arm-rpi', variant: 'core', version: 'v2.0.0-alpha2', kind: 'artifact' })).toBe('quay.io/kairos/core-opensuse-arm-rpi:v2.0.0-alpha2.img');
    expect(ref({ flavor: 'opensuse-arm-rpi', variant: 'standard', version: 'v2.0.0', k3s: 'v1.26.3+k3s1', kind: 'artifact' }))
      .toBe('quay.io/kairos/kairos-opensuse-arm-rpi:v2.0.0-k3sv1.26.3-k3s1.img');
    expect(ref({ flavor: 'opensuse-arm-rpi', variant: 'standard', version: 'v2.0.1', k3s: 'v1.26.3+k3s1', kind: 'artifact' }))
      .toBe('quay.io/kairos/kairos-opensuse-arm-rpi-img:v2.0.1-k3sv1.26.3-k3s1');
    expect(ref({ flavor: 'alpine-arm-rpi', variant: 'core', version: 'v2.4.1', kind: 'artifact' })).toBe('quay.io/kairos/core-alpine-arm-rpi-img:v2.4.1');
  });
  it('v2.4.2+: <tag>-img', () => {
    expect(ref({ flavor: 'opensuse-arm-rpi', variant: 'core', version: 'v2.4.3', kind: 'artifact' })).toBe('quay.io/kairos/opensuse:leap-15.5-core-arm64-rpi4-v2.4.3-img');
  });
});

describe('flavor history', () => {
  it('opensuse became opensuse-leap at v1.5.0 (core) and v1.5.1 (standard)', () => {
    expect(ref({ flavor: 'opensuse', variant: 'core', version: 'v1.4.0' })).toBe('quay.io/kairos/core-opensuse:v1.4.0');
    const e = usage(() => resolveImage(catalog, { flavor: 'opensuse', variant: 'core', version: 'v1.5.0' }));
    expect(e.message).toContain('replaced by opensuse-leap or opensuse-tumbleweed at v1.5.0');
    expect(ref({ flavor: 'opensuse', variant: 'standard', version: 'v1.5.0', k3s: 'v1.26.1+k3s1' })).toBe('quay.io/kairos/kairos-opensuse:v1.5.0-k3sv1.26.1-k3s1');
    usage(() => resolveImage(catalog, { flavor: 'opensuse', variant: 'standard', version: 'v1.5.1', k3s: 'v1.26.1+k3s1' }));
    expect(ref({ flavor: 'opensuse-leap', variant: 'standard', version: 'v1.5.1', k3s: 'v1.26.1+k3s1' })).toBe('quay.io/kairos/kairos-opensuse-leap:v1.5.1-k3sv1.26.1-k3s1');
  });
  it('opensuse-leap before v1.5.0 points back to opensuse', () => {
    const e = usage(() => resolveImage(catalog, { flavor: 'opensuse-leap', variant: 'core', version: 'v1.4.0' }));
    expect(e.message).toContain('it was opensuse');
  });
  it('core alpine split into alpine-opensuse-leap / alpine-ubuntu at v1.2', () => {
    expect(ref({ flavor: 'alpine', variant: 'core', version: 'v1.1.7' })).toBe('quay.io/kairos/core-alpine:v1.1.7');
    const e = usage(() => resolveImage(catalog, { flavor: 'alpine', variant: 'core', version: 'v1.2.0' }));
    expect(e.message).toContain('alpine-opensuse-leap or alpine-ubuntu');
    const e2 = usage(() => resolveImage(catalog, { flavor: 'alpine-ubuntu', variant: 'core', version: 'v1.1.0' }));
    expect(e2.message).toContain('it was alpine');
  });
});

describe('bad input', () => {
  it('unknown flavor names the valid ones and the nearest', () => {
    const e = usage(() => resolveImage(catalog, { flavor: 'ubuntu-22', variant: 'core', version: 'v1.5.0' }));
    expect(e.code).toBe('UNKNOWN_FLAVOR');
    expect(e.message).toContain('did you mean ubuntu-22-lts?');
    expect(e.hint).toContain('alpine-arm-rpi');
    expect(usage(() => resolveImage(catalog, { flavor: 'opensusee', variant: 'core', version: 'v1.4.0' })).message).toContain('did you mean opensuse?');
  });
  it('unknown variant', () => {
    const e = usage(() => resolveImage(catalog, { flavor: 'ubuntu', variant: 'standart', version: 'v1.5.0' }));
    expect(e.code).toBe('UNKNOWN_VARIANT');
    expect(e.message).toContain('did you mean standard?');
  });
  it('an arch the flavor does not ship names its arches', () => {
    const e = usage(() => resolveImage(catalog, { flavor: 'alpine-arm-rpi', variant: 'core', version: 'v1.5.0', arch: 'amd64' }));
    expect(e.code).toBe('UNSUPPORTED_ARCH');
    expect(e.hint).toContain('arm64');
  });
  it('rpi flavors default to arm64 even on an amd64 host', () => {
    expect(resolveImage(catalog, { flavor: 'alpine-arm-rpi', variant: 'core', version: 'v2.4.3', hostArch: 'x64' }).arch).toBe('arm64');
  });
  it('malformed versions', () => {
    for (const v of ['1.5', 'latest', 'v1.5.x', 'vv1.5.0', '']) {
      expect(usage(() => resolveImage(catalog, { flavor: 'ubuntu', variant: 'core', version: v })).code).toBe('BAD_VERSION');
    }
  });
  it('standard without k3s says what is missing', () => {
    const e = usage(() => resolveImage(catalog, { flavor: 'ubuntu', variant: 'standard', version: 'v1.5.0' }));
    expect(e.code).toBe('MISSING_INPUT');
    expect(e.hint).toContain('--k3s');
  });
  it('--k3s on core is refused', () => {
    expect(usage(() => resolveImage(catalog, { flavor: 'ubuntu', variant: 'core', version: 'v1.5.0', k3s: 'v1.26.1+k3s1' })).code).toBe('UNEXPECTED_K3S');
  });
  it('bad k3s versions', () => {
    expect(usage(() => resolveImage(catalog, { flavor: 'ubuntu', variant: 'standard', version: 'v1.5.0', k3s: '1.26' })).code).toBe('BAD_K3S_VERSION');
  });
  it('unknown model', () => {
    expect(usage(() => resolveImage(catalog, { flavor: 'alpine-arm-rpi', variant: 'core', version: 'v2.4.3', model: 'rpi5' })).code).toBe('UNSUPPORTED_MODEL');
  });
  it('versions older than the catalog', () => {
    expect(usage(() => resolveImage(catalog, { flavor: 'ubuntu', variant: 'core', version: 'v0.9.0' })).code).toBe('VERSION_OUT_OF_RANGE');
  });
  it('nearestName does not invent far matches', () => {
    expect(nearestName('debian', ['opensuse', 'ubuntu', 'alpine-ubuntu'])).toBeUndefined();
  });
});

describe('--registry rewrites quay.io and keeps the kairos/ path', () => {
  it('rewrites', () => {
    expect(ref({ flavor: 'opensuse', variant: 'core', version: 'v1.4.0', registry: '127.0.0.1:5000' })).toBe('127.0.0.1:5000/kairos/core-opensuse:v1.4.0');
  });
  it('rejects a malformed registry', () => {
    expect(usage(() => resolveImage(catalog, { flavor: 'opensuse', variant: 'core', version: 'v1.4.0', registry: 'bad host/x' })).code).toBe('BAD_REGISTRY');
  });
});

describe('newest release from tag lists', () => {
  it('skips pre-releases, artifacts and noise; newest k3s for standard', () => {
    const searches = tagSearches(catalog, { flavor: 'ubuntu-22-lts', variant: 'standard', arch: 'amd64' });
    const lists = new Map<string, string[]>([
      ['quay.io/kairos/kairos-ubuntu-22-lts', ['v1.5.0-k3sv1.26.0-k3s1', 'v1.5.1-k3sv1.25.6-k3s1', 'v1.5.1-k3sv1.26.1-k3s1', 'v1.6.0-rc1-k3sv1.26.1-k3s1', 'v1.5.1-k3sv1.26.1-k3s1.img', 'latest', 'sha256-' + 'a'.repeat(64) + '.sig']],
    ]);
    const n = newestRelease(searches, lists);
    expect(n?.tag).toBe('v1.5.1-k3sv1.26.1-k3s1');
    expect(n?.k3s).toBe('v1.26.1+k3s1');
    expect(newestRelease(searches, lists, { version: 'v1.5.0' })?.tag).toBe('v1.5.0-k3sv1.26.0-k3s1');
  });
  it('prefers the newest era that has releases', () => {
    const searches = tagSearches(catalog, { flavor: 'ubuntu-22-lts', variant: 'core', arch: 'amd64' });
    const lists = new Map<string, string[]>([
      ['quay.io/kairos/core-ubuntu-22-lts', ['v1.5.0', 'v2.4.1']],
      ['quay.io/kairos/ubuntu', ['22.04-core-amd64-generic-v2.4.3', '20.04-core-amd64-generic-v2.5.0', '22.04-core-arm64-generic-v2.5.0', '22.04-core-amd64-generic-v2.4.3-img']],
    ]);
    expect(newestRelease(searches, lists)?.tag).toBe('22.04-core-amd64-generic-v2.4.3');
    expect(newestRelease(searches, new Map([['quay.io/kairos/core-ubuntu-22-lts', ['v1.5.0', 'v2.4.1']]]))?.tag).toBe('v2.4.1');
  });
  it('a renamed flavor is not found in its successor\'s releases', () => {
    const searches = tagSearches(catalog, { flavor: 'opensuse', variant: 'core' });
    const lists = new Map([['quay.io/kairos/core-opensuse', ['v1.4.0', 'v1.5.0']]]);
    expect(newestRelease(searches, lists)?.tag).toBe('v1.4.0');
  });
});
