import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { defaultFlavorsDir } from '../../../src/catalog/yaml-file.js';
import { parseTalosMatrix } from '../../../src/catalog/talos/load.js';
import { KairosImgError } from '../../../src/errors.js';

const text = readFileSync(`${defaultFlavorsDir()}/talos.yaml`, 'utf8');
const FILE = 'flavors/talos.yaml';

/** The shipped file, changed, re-serialized (anchors resolved) and loaded: the error it gets. */
function broken(mutate: (doc: Record<string, any>) => void): KairosImgError {
  const doc = parse(text, { merge: true }) as Record<string, any>;
  mutate(doc);
  try {
    parseTalosMatrix(stringify(doc, { aliasDuplicateObjects: false }), FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(KairosImgError);
    expect((e as KairosImgError).code).toBe('CATALOG_INVALID');
    return e as KairosImgError;
  }
  throw new Error('expected the matrix to be rejected');
}

describe('Talos matrix validation', () => {
  it('accepts the shipped file', () => {
    const m = parseTalosMatrix(text, FILE);
    expect(m.os).toBe('talos');
    expect(m.images.registry).toBe('ghcr.io');
    expect(m.images.list.map((i) => i.name)).toEqual(['installer', 'installer-base', 'imager', 'talos']);
  });
  it('names the file, the key and the problem', () => {
    const e = broken((d) => { d.versions[1].kubernetes.min = '1.x'; });
    expect(e.message).toContain(`${FILE}: versions[1] (1.3).kubernetes.min: "1.x" is not a minor version`);
  });
  it('explains an unquoted minor that YAML read as a number', () => {
    const e = broken((d) => { d.versions[8].version = 1.1; });
    expect(e.message).toContain(`${FILE}: versions[8].version: write the version quoted ("1.1"): YAML reads an unquoted 1.10 as the number 1.1`);
  });
  it('rejects a platform name that is not declared', () => {
    const e = broken((d) => { d.versions[0].platforms.cloud.push('Linode Cloud'); });
    expect(e.message).toContain(`versions[0] (1.2).platforms.cloud[10]: "Linode Cloud" is not a platform named under platforms`);
    expect(broken((d) => { d.versions[2].tiers['3'].push('Hetzner2'); }).message).toContain('versions[2] (1.4).tiers.3[7]: "Hetzner2" is not a platform');
  });
  it('rejects an alias that names two platforms', () => {
    expect(broken((d) => { d.platforms.Vultr = ['do']; }).message).toContain('platforms.Vultr: "do" already names Digital Ocean');
  });
  it('rejects a platform in two tiers', () => {
    expect(broken((d) => { d.versions[1].tiers['3'].push('azure'); }).message).toContain('versions[1] (1.3).tiers.3[7]: azure is already in tier 2');
  });
  it('rejects an inverted Kubernetes range and a bad date', () => {
    expect(broken((d) => { d.versions[1].kubernetes = { min: '1.26', max: '1.24' }; }).message).toContain('versions[1] (1.3).kubernetes: min 1.26 is newer than max 1.24');
    expect(broken((d) => { d.versions[1].released.date = '2022-13-01'; }).message).toContain('versions[1] (1.3).released.date: "2022-13-01" is not a date');
    expect(broken((d) => { d.versions[1].communitySupportEnds.date = '2022-11-01'; }).message).toContain('communitySupportEnds.date: 2022-11-01 is not after the release date 2022-12-01');
  });
  it('rejects versions out of order, an upgrade minimum not below the version, bad CAPI versions', () => {
    expect(broken((d) => { [d.versions[0], d.versions[1]] = [d.versions[1], d.versions[0]]; }).message).toContain('versions[1] (1.2): must come after 1.3');
    expect(broken((d) => { d.versions[3].upgradeFrom = '1.5'; }).message).toContain('versions[3] (1.5).upgradeFrom: 1.5 must be older than the version itself');
    expect(broken((d) => { d.versions[0].capi.sidero = '>= 0.5.5'; }).message).toContain('versions[0] (1.2).capi.sidero: ">= 0.5.5" is not a release version');
  });
  it('rejects unknown and missing keys', () => {
    expect(broken((d) => { d.versions[0].kubernetess = {}; }).message).toContain('versions[0] (1.2).kubernetess: unknown key');
    expect(broken((d) => { delete d.versions[0].tiers; }).message).toContain('versions[0] (1.2).tiers: is required');
    expect(broken((d) => { delete d.images.registry; }).message).toContain('images.registry: is required');
    expect(broken((d) => { d.images.list.installer.until = '1.2.x'; }).message).toContain('images.list.installer.until: "1.2.x" is not a minor version');
  });
  it('reports YAML syntax errors with the line', () => {
    expect(() => parseTalosMatrix('os: talos\n  bad: [', 'x.yaml')).toThrow(/^x\.yaml \(line \d+\): not valid YAML/);
  });
});
