import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseCatalog } from '../../../src/catalog/kairos/load.js';
import { defaultFlavorsDir } from '../../../src/catalog/yaml-file.js';
import { KairosImgError } from '../../../src/errors.js';

const text = readFileSync(`${defaultFlavorsDir()}/kairos.yaml`, 'utf8');

function broken(mutate: (doc: Record<string, any>) => void): KairosImgError {
  const doc = parse(text, { merge: true }) as Record<string, any>;
  mutate(doc);
  try {
    parseCatalog(stringify(doc), 'flavors/kairos.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(KairosImgError);
    return e as KairosImgError;
  }
  throw new Error('expected the catalog to be rejected');
}

describe('catalog validation', () => {
  it('the shipped catalog is valid and holds every seed flavor', () => {
    const c = parseCatalog(text, 'flavors/kairos.yaml');
    for (const f of ['opensuse', 'ubuntu', 'ubuntu-22-lts', 'ubuntu-20-lts', 'alpine-opensuse-leap', 'alpine-ubuntu', 'opensuse-arm-rpi', 'alpine-arm-rpi']) {
      expect(c.flavors.map((x) => x.name)).toContain(f);
    }
    expect(c.flavors.find((f) => f.name === 'opensuse-arm-rpi')?.arches).toEqual(['arm64']);
    expect(c.flavors.find((f) => f.name === 'alpine-arm-rpi')?.arches).toEqual(['arm64']);
    expect(c.variants.map((v) => v.name)).toEqual(['core', 'standard']);
    expect(c.registry).toBe('quay.io');
  });
  it('names the file, the key and the problem', () => {
    const e = broken((d) => { d.flavors.ubuntu.arches = ['amd64', 'x86']; });
    expect(e.code).toBe('CATALOG_INVALID');
    expect(e.message).toContain('flavors/kairos.yaml: flavors.ubuntu.arches[1]: unknown value "x86"');
  });
  it('rejects a bad version in a range', () => {
    expect(broken((d) => { d.flavors['opensuse-leap'].pins[1].from = '2.3'; }).message).toContain('flavors.opensuse-leap.pins[1].from: "2.3" is not a Kairos version');
  });
  it('rejects unknown template placeholders', () => {
    expect(broken((d) => { d.eras[0].image.core.tag = '{verison}'; }).message).toContain('eras[0].image.core.tag: unknown placeholder {verison}');
  });
  it('rejects eras that do not tile the version line', () => {
    expect(broken((d) => { d.eras[1].from = 'v2.0.0'; }).message).toContain('eras[1]: must start where eras[0] ends');
  });
  it('rejects a replacement that names no flavor', () => {
    expect(broken((d) => { d.flavors.alpine.exists[0].replacedBy = ['alpine-debian']; }).message).toContain('names no flavor of this catalog: "alpine-debian"');
  });
  it('rejects unknown keys and missing ones', () => {
    expect(broken((d) => { d.flavors.ubuntu.arch = ['amd64']; }).message).toContain('flavors.ubuntu.arch: unknown key');
    expect(broken((d) => { delete d.flavors.ubuntu.family; }).message).toContain('flavors.ubuntu.family: is required');
    expect(broken((d) => { delete d.eras[0].image.standard; }).message).toContain('eras[0].image.standard: is required');
  });
  it('rejects from >= until', () => {
    expect(broken((d) => { d.eras[0].until = 'v0.9.0'; }).message).toContain('must be before "until"');
  });
  it('reports YAML syntax errors with the line', () => {
    try {
      parseCatalog('os: kairos\n  bad: [', 'x.yaml');
      throw new Error('no error');
    } catch (e) {
      expect((e as KairosImgError).code).toBe('CATALOG_INVALID');
      expect((e as Error).message).toMatch(/^x\.yaml \(line \d+\): not valid YAML/);
    }
  });
});
