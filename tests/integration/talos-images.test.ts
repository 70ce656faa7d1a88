// Talos images through the same engine: `talos <image> --version` names ghcr.io/siderolabs/<image>,
// --registry rewrites ghcr.io to the local registry, and resolve, pull (--to oci:DIR) and unpack
// work on a multi-arch Talos-named fixture pushed there.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMultiArch, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { testEnv } from '../helpers/env.js';
import { json, runCli } from '../helpers/cli.js';

const exec = promisify(execFile);
const env = testEnv();
let work: string;
let pushed: { index: string; amd64: string; arm64: string };

function cli(args: string[]) {
  return runCli([...args, '--registry', env.registry, '--plain-http'], { env: { KAIROS_IMG_CACHE: path.join(work, 'cache') } });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-talos-'));
  const layout = path.join(work, 'layout');
  const built = await buildMultiArch({
    dir: layout,
    tag: 'v1.3.7',
    platforms: [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux' }],
    layersFor: async (p) => [{
      compression: 'gzip',
      entries: [
        { path: 'usr/', type: 'dir' },
        { path: 'usr/install/', type: 'dir' },
        { path: `usr/install/${p.architecture}/`, type: 'dir' },
        { path: `usr/install/${p.architecture}/vmlinuz`, type: 'file', content: `talos kernel ${p.architecture}\n` },
        { path: 'etc/', type: 'dir' },
        { path: 'etc/os-release', type: 'file', content: 'NAME="Talos"\nID=talos\nVERSION_ID=v1.3.7\n' },
      ],
    }],
  });
  const [amd64, arm64] = built.images;
  if (amd64 === undefined || arm64 === undefined) throw new Error('fixture has no images');
  pushed = { index: built.digest, amd64: amd64.manifestDigest, arm64: arm64.manifestDigest };
  // v1.3.6 too, so that `--version 1.3` has a newer and an older patch to choose from.
  for (const tag of ['v1.3.7', 'v1.3.6']) {
    await pushImage({ layoutDir: layout, tag: 'v1.3.7', dest: `${env.registry}/siderolabs/installer:${tag}`, plainHttp: true });
  }
}, 180_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('Talos images from the local registry', () => {
  it('resolves offline with a release, rewriting ghcr.io with --registry', async () => {
    const r = await cli(['resolve', 'talos', 'installer', '--version', 'v1.3.7', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = json<{ reference: string; flavor: string; variant: string; discovered: boolean }>(r);
    expect(d.reference).toBe(`${env.registry}/siderolabs/installer:v1.3.7`);
    expect(d).toMatchObject({ flavor: 'talos', variant: 'installer', discovered: false });
    const plain = await runCli(['resolve', 'talos', 'installer', '--version', 'v1.3.7']);
    expect(plain.stdout.trim()).toBe('ghcr.io/siderolabs/installer:v1.3.7');
  });

  it('asks the registry for the newest patch of a minor', async () => {
    const d = json<{ reference: string; discovered: boolean }>(await cli(['resolve', 'talos', 'installer', '--version', '1.3', '--json']));
    expect(d.reference).toBe(`${env.registry}/siderolabs/installer:v1.3.7`);
    expect(d.discovered).toBe(true);
  });

  it('pulls into an OCI layout that skopeo reads, per platform', async () => {
    const dir = path.join(work, 'oci-arm64');
    const r = await cli(['pull', 'talos', 'installer', '--version', 'v1.3.7', '--arch', 'arm64', '--to', `oci:${dir}`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = json<{ reference: string; digest: string; platform: string; layout: { dir: string; tag: string } }>(r);
    expect(d.reference).toBe(`${env.registry}/siderolabs/installer:v1.3.7`);
    expect(d.digest).toBe(pushed.arm64);
    expect(d.platform).toBe('linux/arm64');
    expect(d.layout.tag).toBe('v1.3.7');
    const { stdout } = await exec('skopeo', ['inspect', '--raw', `oci:${dir}:v1.3.7`]);
    expect(JSON.parse(stdout).layers).toHaveLength(1);
    const { stdout: cfg } = await exec('skopeo', ['inspect', '--config', `oci:${dir}:v1.3.7`]);
    expect(JSON.parse(cfg).architecture).toBe('arm64');
  });

  it('lists the tags of a Talos image repository, without Kairos verdicts', async () => {
    const r = await cli(['tags', 'talos', 'installer', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = json<{ repositories: string[]; tags: Array<{ tag: string; class: string; status?: string }> }>(r);
    expect(d.repositories).toEqual([`${env.registry}/siderolabs/installer`]);
    expect(d.tags.map((t) => t.tag)).toContain('v1.3.7');
    expect(d.tags.every((t) => t.status === undefined)).toBe(true);
  });
  it('unpacks the root filesystem', async () => {
    const dir = path.join(work, 'rootfs');
    const r = await cli(['unpack', 'talos', 'installer', dir, '--version', 'v1.3.7', '--arch', 'amd64', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'usr/install/amd64/vmlinuz'), 'utf8')).toBe('talos kernel amd64\n');
    expect(await readFile(path.join(dir, 'etc/os-release'), 'utf8')).toContain('ID=talos');
  });

  it('refuses images not published for the version, before any network traffic', async () => {
    const r = await runCli(['pull', 'talos', 'installer-base', '--version', 'v1.3.7', '--registry', '127.0.0.1:9', '--plain-http'], { env: { KAIROS_IMG_CACHE: path.join(work, 'cache') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('published from 1.10');
    const unknown = await cli(['resolve', 'talos', 'instaler', '--version', 'v1.3.7']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean installer?');
  });

  it('reports a missing repository as such', async () => {
    const r = await cli(['resolve', 'talos', 'imager']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no release of the Talos imager image found in ${env.registry}/siderolabs/imager`);
  });
});
