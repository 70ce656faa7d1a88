// `releases` and `diff` usage errors and the offline part of `resolve` for today's Kairos: exit 2,
// never a network request (no registry is running for unit tests).
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../helpers/cli.js';

function cli(argv: string[]): Promise<CliRun> {
  return runCli(argv, { env: { HOME: os.tmpdir(), CI: '' } });
}

describe('releases: naming the system', () => {
  it('needs exactly one of --release-file, --image, <flavor> <variant>', async () => {
    const none = await cli(['releases']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('name the system: --release-file FILE, --image REF or <flavor> <variant>');
    const two = await cli(['releases', 'hadron', 'core', '--image', 'quay.io/kairos/hadron:x']);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('name the system one way');
  });
  it('a release file without the keys it needs names them (exit 2, no network)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kimg-rel-'));
    const file = path.join(dir, 'kairos-release');
    await writeFile(file, 'KAIROS_FLAVOR="hadron"\nKAIROS_VARIANT="standard"\nKAIROS_RELEASE="v4.1.0"\n');
    const r = await cli(['releases', '--release-file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lacks KAIROS_FLAVOR_RELEASE, KAIROS_MODEL, KAIROS_TARGETARCH, KAIROS_SOFTWARE_VERSION');
  });
  it('an unreadable file and catalog-only options with a file are usage errors', async () => {
    expect((await cli(['releases', '--release-file', '/nonexistent/kairos-release'])).code).toBe(2);
    const r = await cli(['releases', '--release-file', '/etc/hostname', '--flavor-release', '24.04']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--flavor-release applies to <flavor> <variant>');
  });
});

describe('diff: two images', () => {
  it('one image is a usage error', async () => {
    const r = await cli(['diff', 'quay.io/kairos/hadron:v0.2.0-core-amd64-generic-v4.1.0']);
    expect(r.code).toBe(2);
  });
});

describe('resolve: today\'s Kairos offline', () => {
  it('the issue examples', async () => {
    expect((await cli(['resolve', 'hadron', 'core', '--version', 'v4.1.0', '--flavor-release', 'v0.2.0', '--arch', 'amd64'])).stdout).toBe('quay.io/kairos/hadron:v0.2.0-core-amd64-generic-v4.1.0\n');
    expect((await cli(['resolve', 'ubuntu', 'core', '--version', 'v3.2.1', '--flavor-release', '24.04', '--arch', 'amd64'])).stdout).toBe('quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.2.1\n');
  });
  it('k0s and UKI, and --json naming them', async () => {
    const r = await cli(['resolve', 'hadron', 'standard', '--version', 'v4.1.0', '--flavor-release', 'v0.2.0', '--k0s', 'v1.33.1+k0s.0', '--uki', '--arch', 'amd64', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ reference: 'quay.io/kairos/hadron:v0.2.0-standard-amd64-generic-v4.1.0-k0s-v1.33.1-k0s.0-uki', kubernetes: 'k0s', k8s: 'v1.33.1+k0s.0', uki: true, flavorRelease: 'v0.2.0' });
  });
  it('a version without a flavor release the catalog fixes asks the registry (unreachable here: exit 1, naming it)', async () => {
    const r = await cli(['resolve', 'hadron', 'core', '--version', 'v4.1.0', '--arch', 'amd64', '--registry', '127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('127.0.0.1:1');
  });
});
