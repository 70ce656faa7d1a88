import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../helpers/cli.js';

function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runCli(argv, { env: { HOME: os.tmpdir(), CI: '', ...env } });
}

describe('resolve (offline)', () => {
  it('the v1 standard example', async () => {
    const r = await cli(['resolve', 'ubuntu-22-lts', 'standard', '--version', 'v1.5.1', '--k3s', 'v1.26.1+k3s1']);
    expect(r).toEqual({ code: 0, stdout: 'quay.io/kairos/kairos-ubuntu-22-lts:v1.5.1-k3sv1.26.1-k3s1\n', stderr: '' });
  });
  it('the v2.4.2+ example, --json with at least reference/registry/repository/tag', async () => {
    const r = await cli(['resolve', 'ubuntu-22-lts', 'core', '--version', 'v2.4.3', '--arch', 'amd64', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ reference: 'quay.io/kairos/ubuntu:22.04-core-amd64-generic-v2.4.3', registry: 'quay.io', repository: 'kairos/ubuntu', tag: '22.04-core-amd64-generic-v2.4.3', era: 'v2.4.2+' });
  });
  it('--registry and KAIROS_IMG_REGISTRY rewrite quay.io', async () => {
    expect((await cli(['resolve', 'opensuse', 'core', '--version', 'v1.4.0', '--registry', '127.0.0.1:5000'])).stdout).toBe('127.0.0.1:5000/kairos/core-opensuse:v1.4.0\n');
    expect((await cli(['resolve', 'opensuse', 'core', '--version', 'v1.4.0'], { KAIROS_IMG_REGISTRY: 'mirror.local:8443' })).stdout).toBe('mirror.local:8443/kairos/core-opensuse:v1.4.0\n');
  });
  it('a full reference is normalised; --registry rewrites quay.io references too', async () => {
    expect((await cli(['resolve', 'library/alpine'])).stdout).toBe('docker.io/library/alpine:latest\n');
    expect((await cli(['resolve', 'quay.io/kairos/core-opensuse:v1.4.0', '--registry', '127.0.0.1:5000'])).stdout).toBe('127.0.0.1:5000/kairos/core-opensuse:v1.4.0\n');
  });
  it('writes GitHub step outputs', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kimg-gh-'));
    const file = path.join(dir, 'out');
    await cli(['resolve', 'opensuse', 'core', '--version', 'v1.4.0'], { GITHUB_OUTPUT: file });
    expect(await readFile(file, 'utf8')).toBe('reference=quay.io/kairos/core-opensuse:v1.4.0\n');
  });
});

describe('bad input: exit 2, one line naming the problem, a hint, no stack trace', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown flavor', ['resolve', 'ubuntu-22', 'core', '--version', 'v1.5.0'], /unknown flavor "ubuntu-22"; did you mean ubuntu-22-lts\?/],
    ['unknown variant', ['resolve', 'ubuntu', 'kore', '--version', 'v1.5.0'], /unknown variant "kore"; did you mean core\?/],
    ['arch not shipped', ['resolve', 'alpine-arm-rpi', 'core', '--version', 'v1.5.0', '--arch', 'amd64'], /not published for amd64/],
    ['malformed version', ['resolve', 'ubuntu', 'core', '--version', 'one.two'], /"one.two" is not a Kairos version/],
    ['malformed k3s', ['resolve', 'ubuntu', 'standard', '--version', 'v1.5.0', '--k3s', 'latest'], /"latest" is not a k3s version/],
    ['flavor replaced', ['resolve', 'opensuse', 'core', '--version', 'v1.5.0'], /replaced by opensuse-leap or opensuse-tumbleweed at v1\.5\.0/],
    ['missing variant', ['resolve', 'ubuntu'], /name the variant after the flavor/],
    ['bad reference', ['resolve', 'quay.io/Kairos/core:v1'], /must be lowercase/],
    ['bad registry', ['resolve', 'opensuse', 'core', '--version', 'v1.4.0', '--registry', 'a b'], /invalid registry "a b"/],
    ['flavor options with a reference', ['resolve', 'quay.io/kairos/core-opensuse:v1.4.0', '--version', 'v1.4.0'], /--version applies to <flavor> <variant>/],
    ['bad --to', ['pull', 'opensuse', 'core', '--version', 'v1.4.0', '--to', 'tarball:x'], /unknown destination "tarball:x"/],
    ['unpack without a directory', ['unpack', 'quay.io/kairos/core-opensuse:v1.4.0'], /name the image and the directory/],
  ];
  for (const [name, argv, message] of cases) {
    it(name, async () => {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(message);
      expect(lines.slice(1).every((l) => l.startsWith('hint: '))).toBe(true);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
  it('unpack into a non-empty directory is refused before any registry traffic', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kimg-nonempty-'));
    await writeFile(path.join(dir, 'x'), 'x');
    const r = await cli(['unpack', 'quay.io/kairos/core-opensuse:v1.4.0', dir, '--registry', '127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: target directory ".*" is not empty$/m);
    expect(r.stderr).toMatch(/^hint: pass --force/m);
    expect(r.stderr).not.toMatch(/127\.0\.0\.1:1/);
  });
  it('--json puts the error document on stdout', async () => {
    const r = await cli(['resolve', 'ubuntu-22', 'core', '--version', 'v1.5.0', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'UNKNOWN_FLAVOR' } });
  });
  it('an unknown option is a usage error', async () => {
    const r = await cli(['resolve', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
  });
  it('--debug shows the stack', async () => {
    const r = await cli(['resolve', 'ubuntu-22', 'core', '--version', 'v1.5.0', '--debug']);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('flavors', () => {
  // issue 16: `flavors` now shows the newest release by default; the seed table is `--version v1.5.0`.
  it('prints the seed matrix as a table and as JSON', async () => {
    const human = await cli(['flavors', '--version', 'v1.5.0']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^alpine-arm-rpi\s+core\s+quay\.io\/kairos\/core-alpine-arm-rpi\s+arm64\s/m);
    const json = await cli(['flavors', '--version', 'v1.5.0', '--json']);
    const doc = JSON.parse(json.stdout) as { rows: Array<{ flavor: string; variant: string; repository: string; arches: string[] }> };
    expect(doc.rows.find((r) => r.flavor === 'ubuntu-22-lts' && r.variant === 'standard')?.repository).toBe('quay.io/kairos/kairos-ubuntu-22-lts');
    expect(doc.rows.find((r) => r.flavor === 'opensuse-arm-rpi' && r.variant === 'core')?.arches).toEqual(['arm64']);
  });
  it('--version shows the naming of that release', async () => {
    const doc = JSON.parse((await cli(['flavors', '--version', 'v2.4.3', '--json'])).stdout) as { rows: Array<{ flavor: string; variant: string; repository: string }>; era: string };
    expect(doc.era).toBe('v2.4.2+');
    expect(doc.rows.find((r) => r.flavor === 'ubuntu-22-lts' && r.variant === 'core')?.repository).toBe('quay.io/kairos/ubuntu');
    expect(doc.rows.some((r) => r.flavor === 'opensuse')).toBe(false);
  });
});

describe('help and version', () => {
  it('--version', async () => {
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
  it('every command has --help with an example', async () => {
    const top = await cli(['--help']);
    const commandsSection = top.stdout.split('Commands:')[1] ?? '';
    const names = [...commandsSection.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]).filter((n) => n !== 'help');
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const name of names) {
      const r = await cli([name as string, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(/Examples?:\n {2}kairos-img /);
    }
  });
});
