import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultFlavorsDir } from '../../../src/catalog/yaml-file.js';
import { parseTalosMatrix } from '../../../src/catalog/talos/load.js';
import { findRelease } from '../../../src/catalog/talos/find.js';
import { checkArch, checkKubernetes, checkPlatform, checkSupport, checkTalos, checkUpgrade, intermediateMinors, type TalosCheckRequest } from '../../../src/catalog/talos/check.js';
import { KairosImgError } from '../../../src/errors.js';

const matrix = parseTalosMatrix(readFileSync(`${defaultFlavorsDir()}/talos.yaml`, 'utf8'), 'flavors/talos.yaml');
const at = (v: string) => findRelease(matrix, v);

function usage(f: () => unknown): KairosImgError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(KairosImgError);
    expect((e as KairosImgError).kind).toBe('usage');
    return e as KairosImgError;
  }
  throw new Error('expected a usage error');
}

const kube: Array<[string, string, string]> = [
  ['1.2', '1.23', '1.25'], ['1.3', '1.24', '1.26'], ['1.4', '1.25', '1.27'], ['1.5', '1.26', '1.28'], ['1.6', '1.24', '1.29'],
  ['1.7', '1.25', '1.30'], ['1.8', '1.26', '1.31'], ['1.9', '1.27', '1.32'], ['1.10', '1.28', '1.33'], ['1.11', '1.29', '1.34'],
  ['1.12', '1.30', '1.35'], ['1.13', '1.31', '1.36'],
];
const minorPlus = (v: string, d: number): string => { const [a, b] = v.split('.'); return `${a}.${Number(b) + d}`; };

describe('Kubernetes range, both ends of every version', () => {
  for (const [talos, min, max] of kube) {
    it(`Talos ${talos}: ${min}–${max}`, () => {
      const r = at(talos);
      expect(checkKubernetes(matrix, r, min).ok).toBe(true);
      expect(checkKubernetes(matrix, r, max).ok).toBe(true);
      expect(checkKubernetes(matrix, r, `v${max}.9`).ok).toBe(true);
      const below = checkKubernetes(matrix, r, minorPlus(min, -1));
      expect(below.ok).toBe(false);
      expect(below.message).toContain(`older than ${min}`);
      const above = checkKubernetes(matrix, r, `${minorPlus(max, 1)}.0`);
      expect(above.ok).toBe(false);
      expect(above.message).toContain(`newer than ${max}`);
    });
  }
  it('says which Talos versions support a Kubernetes version out of range', () => {
    expect(checkKubernetes(matrix, at('1.3'), '1.27').message).toContain('Talos 1.4–1.9 support it');
    expect(checkKubernetes(matrix, at('1.5'), '1.24').message).toContain('Talos 1.2–1.3, 1.6 support it');
    expect(checkKubernetes(matrix, at('1.3'), '1.22').message).toContain('no Talos version in the matrix supports it');
  });
  it('refuses what is not a version', () => {
    expect(usage(() => checkKubernetes(matrix, at('1.3'), 'latest')).code).toBe('BAD_KUBERNETES_VERSION');
  });
});

describe('upgrade minimums', () => {
  const minimums: Array<[string, string, string | undefined]> = [
    // [target, minimum, the minor just below the minimum (refused)]
    ['1.2', '1.0', '0.14'], ['1.3', '1.0', '0.14'], ['1.4', '1.0', '0.14'], ['1.5', '1.2', '1.1'], ['1.6', '1.3', '1.2'],
    ['1.7', '1.4', '1.3'], ['1.8', '1.5', '1.4'], ['1.9', '1.8', '1.7'], ['1.10', '1.8', '1.7'], ['1.11', '1.9', '1.8'],
    ['1.12', '1.10', '1.9'], ['1.13', '1.11', '1.10'],
  ];
  for (const [to, min, below] of minimums) {
    it(`${to} upgrades from ${min} and refuses ${below}`, () => {
      const ok = checkUpgrade(matrix, at(to), `v${min}.0`);
      expect(ok.ok).toBe(true);
      expect(ok.message).toContain(`upgrades from ${min} or later`);
      const refused = checkUpgrade(matrix, at(to), `${below}.9`);
      expect(refused.ok).toBe(false);
      expect(refused.message).toContain(`refuses upgrades from ${below}.9: it needs ${min} or later`);
    });
  }
  it('lists the intermediate minors (latest patch of each)', () => {
    const r = checkUpgrade(matrix, at('1.10'), 'v1.8.3');
    expect(r.ok).toBe(true);
    expect(r.path).toEqual(['1.9']);
    expect(r.message).toContain('recommended through the latest patch of 1.9.x, then 1.10');
    expect(checkUpgrade(matrix, at('1.6'), '1.3.7').path).toEqual(['1.4', '1.5']);
    expect(intermediateMinors(matrix, '1.3', '1.13')).toEqual(['1.4', '1.5', '1.6', '1.7', '1.8', '1.9', '1.10', '1.11', '1.12']);
    expect(checkUpgrade(matrix, at('1.4'), '1.3').path).toEqual([]);
  });
  it('names the way through when refused', () => {
    const r = checkUpgrade(matrix, at('1.9'), '1.3.7');
    expect(r.ok).toBe(false);
    expect(r.path).toEqual(['1.4', '1.5', '1.6', '1.7', '1.8']);
    expect(r.message).toContain('1.4.x → 1.5.x → 1.6.x → 1.7.x → 1.8.x');
  });
  it('treats the same minor as a patch upgrade and a newer one as a downgrade', () => {
    expect(checkUpgrade(matrix, at('1.3'), 'v1.3.2').ok).toBe(true);
    const down = checkUpgrade(matrix, at('1.3'), '1.4.0');
    expect(down.ok).toBe(false);
    expect(down.message).toContain('downgrade');
  });
  it('refuses what is not a version', () => {
    expect(usage(() => checkUpgrade(matrix, at('1.3'), 'old')).code).toBe('BAD_VERSION');
  });
});

describe('community support on a date (end date inclusive)', () => {
  const ends: Array<[string, string, string]> = [
    ['1.2', '2022-12-14', '2022-12-15'], ['1.3', '2023-03-14', '2023-03-15'], ['1.4', '2023-08-14', '2023-08-15'],
    ['1.9', '2025-04-14', '2025-04-15'], ['1.12', '2026-04-29', '2026-04-30'], ['1.13', '2026-08-29', '2026-08-30'],
  ];
  const next = (d: string): string => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  for (const [v, before, end] of ends) {
    it(`${v}: supported the day before and of ${end}, ended the day after`, () => {
      expect(checkSupport(at(v), before).ok).toBe(true);
      const of = checkSupport(at(v), end);
      expect(of.ok).toBe(true);
      expect(of.message).toContain('ends today');
      const after = checkSupport(at(v), next(end));
      expect(after.ok).toBe(false);
      expect(after.message).toContain(`has ended, with the ${at(v).communitySupportEnds.release} release`);
    });
  }
  it('says TBD where the matrix does, and enterprise support after the end', () => {
    expect(checkSupport(at('1.3'), '2023-01-01').message).toContain('2023-03-15, TBD in the matrix');
    expect(checkSupport(at('1.3'), '2023-03-16').message).toContain('enterprise support: offered by Sidero Labs Inc.');
  });
  it('is not supported before the release date', () => {
    expect(checkSupport(at('1.13'), '2026-04-26').ok).toBe(false);
    expect(checkSupport(at('1.13'), '2026-04-26').message).toContain('not released yet');
    expect(checkSupport(at('1.13'), '2026-04-27').ok).toBe(true);
  });
  it('refuses a date that does not exist', () => {
    expect(usage(() => checkSupport(at('1.3'), '2023-02-30')).code).toBe('BAD_DATE');
    expect(usage(() => checkSupport(at('1.3'), '16.03.2023')).code).toBe('BAD_DATE');
  });
});

describe('platforms and tiers', () => {
  it('matches names case-insensitively and through aliases', () => {
    expect(checkPlatform(matrix, at('1.3'), 'aws').platform).toBe('AWS');
    expect(checkPlatform(matrix, at('1.3'), 'digitalocean').platform).toBe('Digital Ocean');
    expect(checkPlatform(matrix, at('1.3'), 'DIGITAL OCEAN').platform).toBe('Digital Ocean');
    expect(checkPlatform(matrix, at('1.3'), 'vmware').platform).toBe('VMware');
    expect(checkPlatform(matrix, at('1.3'), 'VMWare').tier).toBe('2');
    expect(checkPlatform(matrix, at('1.3'), 'rpi4').platform).toBe('Raspberry Pi 4B');
  });
  it('gives the tier of each tiered platform', () => {
    const tiers: Array<[string, string, string]> = [
      ['1.3', 'metal', '1'], ['1.3', 'AWS', '1'], ['1.3', 'gcp', '1'], ['1.3', 'azure', '2'], ['1.3', 'openstack', '2'],
      ['1.3', 'exoscale', '3'], ['1.3', 'nocloud', '3'], ['1.3', 'upcloud', '3'], ['1.7', 'akamai', '3'], ['1.7', 'opennebula', '3'],
      ['1.8', 'cloudstack', '3'],
    ];
    for (const [v, p, t] of tiers) {
      const r = checkPlatform(matrix, at(v), p);
      expect(r.ok, `${v} ${p}`).toBe(true);
      expect(r.tier, `${v} ${p}`).toBe(t);
      expect(r.message).toContain(`Tier ${t}`);
    }
    const docker = checkPlatform(matrix, at('1.3'), 'docker');
    expect(docker.ok).toBe(true);
    expect(docker.tier).toBeNull();
    expect(docker.message).toContain('local platform, no tier given');
  });
  it('moves Azure to Tier 1 in 1.8 and 1.9, and back to Tier 2 in 1.10', () => {
    expect(checkPlatform(matrix, at('1.7'), 'azure').tier).toBe('2');
    expect(checkPlatform(matrix, at('1.8'), 'azure').tier).toBe('1');
    expect(checkPlatform(matrix, at('1.9'), 'azure').tier).toBe('1');
    expect(checkPlatform(matrix, at('1.10'), 'azure').tier).toBe('2');
  });
  it('refuses platforms before the release that adds them', () => {
    const cases: Array<[string, string, string]> = [
      ['1.2', 'exoscale', '1.3'], ['1.2', 'nanopi_r4s', '1.3'], ['1.6', 'akamai', '1.7'], ['1.6', 'opennebula', '1.7'], ['1.6', 'rock4cplus', '1.7'],
      ['1.7', 'cloudstack', '1.8'], ['1.8', 'turing-rk1', '1.9'], ['1.8', 'rock5b', '1.9'], ['1.8', 'orangepi5', '1.9'],
    ];
    for (const [v, p, from] of cases) {
      const r = checkPlatform(matrix, at(v), p);
      expect(r.ok, `${v} ${p}`).toBe(false);
      expect(r.message).toContain(`listed from ${from}`);
      expect(checkPlatform(matrix, at(from), p).ok, `${from} ${p}`).toBe(true);
    }
  });
  it('answers an unknown platform with the list and the nearest name', () => {
    const e = usage(() => checkPlatform(matrix, at('1.3'), 'hetzner-clod'));
    expect(e.code).toBe('UNKNOWN_PLATFORM');
    expect(e.message).toContain('did you mean Hetzner?');
    expect(e.hint).toContain('AWS, GCP, Azure');
  });
});

describe('arch', () => {
  it('knows amd64 and arm64 (and their other names)', () => {
    expect(checkArch(at('1.3'), 'arm64').ok).toBe(true);
    expect(checkArch(at('1.3'), 'x86_64').ok).toBe(true);
    expect(checkArch(at('1.3'), 'aarch64').ok).toBe(true);
    const r = checkArch(at('1.3'), 'riscv64');
    expect(r.ok).toBe(false);
    expect(r.message).toContain('amd64, arm64');
  });
});

describe('checkTalos', () => {
  const base: TalosCheckRequest = { talos: 'v1.3.7', on: '2023-03-01' };
  it('is supported when every check passes', () => {
    const r = checkTalos(matrix, { ...base, kubernetes: '1.26.1', platform: 'digitalocean', arch: 'arm64', from: '1.2.9' });
    expect(r.talos).toBe('1.3');
    expect(r.supported).toBe(true);
    expect(r.checks.map((c) => c.id)).toEqual(['kubernetes', 'platform', 'arch', 'upgrade', 'support']);
  });
  it('is not supported when one fails', () => {
    const r = checkTalos(matrix, { ...base, kubernetes: '1.27', on: '2023-03-16' });
    expect(r.supported).toBe(false);
    expect(r.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['kubernetes', 'support']);
  });
  it('answers an unknown version with the list and the nearest', () => {
    const e = usage(() => checkTalos(matrix, { ...base, talos: '1.14' }));
    expect(e.code).toBe('UNKNOWN_TALOS_VERSION');
    expect(e.message).toContain('did you mean 1.13?');
    expect(usage(() => checkTalos(matrix, { ...base, talos: '1.1' })).message).toContain('did you mean 1.2?');
    expect(e.hint).toContain('1.2, 1.3, 1.4');
    expect(usage(() => checkTalos(matrix, { ...base, talos: 'latest' })).code).toBe('BAD_VERSION');
  });
});
