import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultFlavorsDir } from '../../../src/catalog/yaml-file.js';
import { parseTalosMatrix } from '../../../src/catalog/talos/load.js';
import { findReleases } from '../../../src/catalog/talos/find.js';
import { columnsNewestFirst, matrixMarkdown, matrixTable } from '../../../src/cli/render/talos.js';
import { renderGrid, wrapCell } from '../../../src/cli/render/grid.js';

const matrix = parseTalosMatrix(readFileSync(`${defaultFlavorsDir()}/talos.yaml`, 'utf8'), 'flavors/talos.yaml');
// A verbatim copy of the seed document (shared/seeds/talos-support-matrix.md).
const seedText = readFileSync(new URL('./talos-support-matrix.seed.md', import.meta.url), 'utf8');

/** The seed's table, row by row, cells trimmed. */
function seedTable(): string[][] {
  return seedText.split('\n').filter((l) => l.startsWith('|') && !/^\|-/.test(l)).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

/** The seed's tier lists: `### Tier N` followed by `* name` lines. */
function seedTiers(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let tier: string | undefined;
  for (const line of seedText.split('\n')) {
    const h = /^### Tier (\d)/.exec(line);
    if (h !== null) { tier = h[1]; out[tier as string] = []; continue; }
    if (line.startsWith('#')) tier = undefined;
    const item = /^\* (.+)$/.exec(line);
    if (item !== null && tier !== undefined) out[tier]?.push(item[1] as string);
  }
  return out;
}

describe('the seed columns (1.3 and 1.2), cell by cell', () => {
  const seed = seedTable();
  const ours = matrixTable(columnsNewestFirst(findReleases(matrix, ['1.2', '1.3'])), { format: 'markdown', seedOnly: true });
  const rows = [[ours.header.label, ...ours.header.cells], ...ours.rows.map((r) => [r.label, ...r.cells])];

  it('has the seed\'s rows, in order', () => {
    expect(rows.map((r) => r[0])).toEqual(seed.map((r) => r[0]));
    expect(seed.length).toBe(16);
  });
  for (const [i, seedRow] of seed.entries()) {
    it(`row ${seedRow[0]}`, () => {
      expect(rows[i]).toEqual(seedRow);
    });
  }
  it('spells out the cells of the seed (independently of the seed file)', () => {
    const [r13, r12] = columnsNewestFirst(findReleases(matrix, ['1.2', '1.3']));
    expect(r13?.released).toEqual({ date: '2022-12-01', release: undefined });
    expect(r12?.released).toEqual({ date: '2022-09-01', release: '1.2.0' });
    expect(r13?.communitySupportEnds).toEqual({ release: '1.4.0', date: '2023-03-15', tbd: true });
    expect(r12?.communitySupportEnds).toEqual({ release: '1.3.0', date: '2022-12-15', tbd: true });
    expect(r13?.kubernetes).toEqual({ min: '1.24', max: '1.26' });
    expect(r12?.kubernetes).toEqual({ min: '1.23', max: '1.25' });
    expect(r13?.capi).toEqual({ bootstrap: '0.5.6', controlPlane: '0.4.10', sidero: '0.5.7' });
    expect(r12?.capi).toEqual({ bootstrap: '0.5.5', controlPlane: '0.4.9', sidero: '0.5.5' });
    expect(r13?.platforms.sbcs).toContain('Nano Pi R4S');
    expect(r12?.platforms.sbcs).not.toContain('Nano Pi R4S');
    expect(r12?.platforms.sbcs).toContain('Raspberry Pi Compute Module 4');
    expect(r13?.platforms.cloud).toContain('Exoscale');
    expect(r12?.platforms.cloud).not.toContain('Exoscale');
  });
  it('has the seed\'s tiers for both columns', () => {
    const tiers = seedTiers();
    expect(Object.keys(tiers)).toEqual(['1', '2', '3']);
    for (const v of ['1.2', '1.3']) {
      const r = matrix.versions.find((x) => x.version === v);
      expect(r?.tiers).toEqual(tiers);
    }
  });
});

describe('later versions', () => {
  it('lists 1.2 – 1.13 oldest first, newest first as columns', () => {
    expect(matrix.versions.map((v) => v.version)).toEqual(['1.2', '1.3', '1.4', '1.5', '1.6', '1.7', '1.8', '1.9', '1.10', '1.11', '1.12', '1.13']);
    expect(matrixTable(columnsNewestFirst(matrix.versions)).header.cells[0]).toBe('1.13');
  });
  it('encodes the platform additions', () => {
    const at = (v: string) => matrix.versions.find((x) => x.version === v);
    expect(at('1.4')?.platforms.bareMetal.find((b) => b.key === 'x86')?.values).toEqual(['BIOS', 'UEFI']);
    expect(at('1.5')?.platforms.bareMetal.find((b) => b.key === 'x86')?.values).toEqual(['BIOS', 'UEFI', 'SecureBoot']);
    expect(at('1.6')?.platforms.cloud).not.toContain('Akamai');
    expect(at('1.7')?.platforms.cloud).toEqual(expect.arrayContaining(['Akamai', 'OpenNebula']));
    expect(at('1.7')?.platforms.sbcs).toContain('Radxa Rock4c+');
    expect(at('1.7')?.platforms.cloud).not.toContain('CloudStack');
    expect(at('1.8')?.platforms.cloud).toContain('CloudStack');
    expect(at('1.8')?.platforms.sbcs).not.toContain('Turing RK1');
    expect(at('1.9')?.platforms.sbcs).toEqual(expect.arrayContaining(['Radxa ROCK 5B', 'Turing RK1', 'Orange Pi 5']));
    for (const r of matrix.versions) {
      expect(r.arches).toEqual(['amd64', 'arm64']);
      expect(r.platforms.local).toEqual(['Docker', 'QEMU']);
      expect(r.platforms.virtualized).toEqual(['VMware', 'Hyper-V', 'KVM', 'Proxmox', 'Xen']);
    }
  });
  it('encodes the facts table (release, support end, Kubernetes, CAPI, upgrade minimum)', () => {
    const facts: Array<[string, string, string, string, string, string, string]> = [
      ['1.4', '2023-04-18', '1.5.0 2023-08-15', '1.25', '1.27', '0.6.0 0.4.10 0.6.0', '1.0'],
      ['1.5', '2023-08-17', '1.6.0 2023-12-15', '1.26', '1.28', '0.6.1 0.5.2 0.6.0', '1.2'],
      ['1.6', '2023-12-15', '1.7.0 2024-04-15', '1.24', '1.29', '0.6.3 0.5.4 0.6.2', '1.3'],
      ['1.7', '2024-04-19', '1.8.0 2024-09-23', '1.25', '1.30', '0.6.5 0.5.6 0.6.4', '1.4'],
      ['1.8', '2024-09-23', '1.9.0 2024-12-15', '1.26', '1.31', '0.6.6 0.5.7 0.6.5', '1.5'],
      ['1.9', '2024-12-17', '1.10.0 2025-04-15', '1.27', '1.32', '0.6.7 0.5.8 0.6.5', '1.8'],
      ['1.10', '2025-04-30', '1.11.0 2025-08-15', '1.28', '1.33', '0.6.8 0.5.9 0.6.6', '1.8'],
      ['1.11', '2025-09-01', '1.12.0 2025-12-22', '1.29', '1.34', '0.6.8 0.5.9 0.6.6', '1.9'],
      ['1.12', '2025-12-22', '1.13.0 2026-04-30', '1.30', '1.35', '0.6.11 0.5.12 0.6.12', '1.10'],
      ['1.13', '2026-04-27', '1.14.0 2026-08-30', '1.31', '1.36', '0.6.12 0.5.13 0.6.13', '1.11'],
    ];
    for (const [v, released, end, kmin, kmax, capi, from] of facts) {
      const r = matrix.versions.find((x) => x.version === v);
      expect(r?.released.date, v).toBe(released);
      expect(`${r?.communitySupportEnds.release} ${r?.communitySupportEnds.date}`, v).toBe(end);
      expect(r?.kubernetes, v).toEqual({ min: kmin, max: kmax });
      expect(`${r?.capi.bootstrap} ${r?.capi.controlPlane} ${r?.capi.sidero}`, v).toBe(capi);
      expect(r?.upgradeFrom, v).toBe(from);
    }
    expect(matrix.versions.find((x) => x.version === '1.2')?.upgradeFrom).toBe('1.0');
    expect(matrix.versions.find((x) => x.version === '1.3')?.upgradeFrom).toBe('1.0');
  });
  it('moves Azure to Tier 1 in 1.8 and 1.9 only', () => {
    for (const r of matrix.versions) {
      const tier1 = ['1.8', '1.9'].includes(r.version);
      expect(r.tiers['1'].includes('Azure'), r.version).toBe(tier1);
      expect(r.tiers['2'].includes('Azure'), r.version).toBe(!tier1);
    }
  });
});

describe('rendering', () => {
  it('renders the Kubernetes range as the seed lists it', () => {
    const t = matrixTable(findReleases(matrix, ['1.6']));
    expect(t.rows.find((r) => r.label === 'Kubernetes')?.cells).toEqual(['1.29, 1.28, 1.27, 1.26, 1.25, 1.24']);
  });
  it('wraps long cells at list separators', () => {
    expect(wrapCell('AWS, GCP, Azure, Digital Ocean', 16)).toEqual(['AWS, GCP, Azure,', 'Digital Ocean']);
    expect(wrapCell('x86: BIOS, UEFI; arm64: UEFI', 12)).toEqual(['x86: BIOS,', 'UEFI;', 'arm64: UEFI']);
    expect(wrapCell('short', 20)).toEqual(['short']);
    expect(wrapCell('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });
  it('fits the terminal width, splitting columns into blocks', () => {
    const t = matrixTable(columnsNewestFirst(matrix.versions));
    for (const width of [80, 120, 200]) {
      const text = renderGrid(t, { width });
      for (const line of text.split('\n')) expect(line.length, `${width}: ${line}`).toBeLessThanOrEqual(width);
      for (const v of ['1.13', '1.2', '1.10']) expect(text).toMatch(new RegExp(`Talos Version .*\\b${v.replace('.', '\\.')}\\b`));
    }
    const wide = renderGrid(matrixTable(columnsNewestFirst(findReleases(matrix, ['1.3', '1.2']))), { width: 200 });
    expect(wide.split('\n')[0]).toMatch(/^Talos Version\s+1\.3\s+1\.2$/);
    expect(wide).toContain('1.4.0 release (2023-03-15, TBD)');
  });
  it('renders Markdown lines that read back as the seed rows', () => {
    const md = matrixMarkdown(matrixTable(columnsNewestFirst(findReleases(matrix, ['1.2', '1.3'])), { format: 'markdown', seedOnly: true }));
    expect(md.split('\n')[0]).toBe('| Talos Version | 1.3 | 1.2 |');
    expect(md).toContain('| Enterprise Support | [offered by Sidero Labs Inc.](https://www.siderolabs.com/support/) | [offered by Sidero Labs Inc.](https://www.siderolabs.com/support/) |');
  });
});
