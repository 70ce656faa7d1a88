// `talos matrix` and `talos check` through the CLI (in-process): data, exit codes, usage errors.
import { describe, expect, it } from 'vitest';
import { json, runCli } from '../../helpers/cli.js';

describe('kairos-img talos matrix', () => {
  it('gives every version newest first, or the ones picked', async () => {
    const all = json<{ versions: Array<{ version: string }> }>(await runCli(['talos', 'matrix', '--json']));
    expect(all.versions.map((v) => v.version)).toEqual(['1.13', '1.12', '1.11', '1.10', '1.9', '1.8', '1.7', '1.6', '1.5', '1.4', '1.3', '1.2']);
    const picked = json<{ versions: Array<{ version: string }> }>(await runCli(['talos', 'matrix', '--version', '1.2', '--version', 'v1.3,1.10', '--json']));
    expect(picked.versions.map((v) => v.version)).toEqual(['1.10', '1.3', '1.2']);
  });
  it('renders the seed rows for a terminal, within COLUMNS', async () => {
    const r = await runCli(['talos', 'matrix', '--version', '1.3,1.2'], { env: { COLUMNS: '100' } });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^Talos Version\s+1\.3\s+1\.2$/);
    for (const label of ['Release Date', 'End of Community Support', 'Enterprise Support', 'Kubernetes', 'Architecture', '- cloud', '- bare metal', '- virtualized', '- SBCs', '- local', 'CAPI Bootstrap Provider Talos', 'CAPI Control Plane Provider Talos', 'Sidero']) {
      expect(r.stdout).toMatch(new RegExp(`^${label.replace(/[-+]/g, '\\$&')}\\s`, 'm'));
    }
    for (const line of r.stdout.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });
  it('answers an unknown version with exit 2 and the nearest', async () => {
    const r = await runCli(['talos', 'matrix', '--version', '1.14']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean 1.13?');
  });
});

describe('kairos-img talos check', () => {
  it('exits 0 when supported, with a ✓ line per check', async () => {
    const r = await runCli(['talos', 'check', '--talos', '1.3', '--kubernetes', '1.24', '--platform', 'vmware', '--arch', 'amd64', '--from', '1.2.9', '--on', '2023-03-15']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('✓'))).toHaveLength(5);
  });
  it('exits 3 when a check fails, and says which', async () => {
    const r = await runCli(['talos', 'check', '--talos', '1.3', '--on', '2023-03-16', '--json']);
    expect(r.code).toBe(3);
    const d = json<{ supported: boolean; checks: Array<{ check: string; ok: boolean }> }>(r);
    expect(d.supported).toBe(false);
    expect(d.checks).toEqual([expect.objectContaining({ check: 'support', ok: false })]);
  });
  it('judges support today when --on is absent', async () => {
    const d = json<{ on: string }>(await runCli(['talos', 'check', '--talos', '1.13', '--json']));
    expect(d.on).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
  it('exits 2 on usage errors', async () => {
    expect((await runCli(['talos', 'check'])).code).toBe(2);
    const p = await runCli(['talos', 'check', '--talos', '1.3', '--platform', 'digitalocaen']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('did you mean Digital Ocean?');
    expect((await runCli(['talos', 'check', '--talos', '1.3', '--on', 'tomorrow'])).code).toBe(2);
  });
});
