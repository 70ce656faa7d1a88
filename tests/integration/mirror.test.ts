// `kairos-img mirror` (issue 17) against the real registry: to OCI layouts and archives and back
// out of them, byte for byte, multi-arch kept (or filtered with --arch), catalog selections with
// --versions and --with-artifacts, cosign tags with --with-signatures, --dry-run, a second run
// that copies nothing.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { buildMultiArch, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { testEnv } from '../helpers/env.js';
import { normalizeInodeGroups, snapshotTree } from '../helpers/layers.js';
import { json, runCli } from '../helpers/cli.js';
import { artifactPush } from '../../src/operations/artifact-push.js';
import type { MirrorReport } from '../../src/operations/mirror.js';

const exec = promisify(execFile);
const env = testEnv();
let work: string;

const MULTI = `${env.registry}/kairos/core-opensuse:v1.4.0`;
const LAYERS = `${env.registry}/test/layers-oci:v1`;

type Report = MirrorReport;

function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return runCli(['--plain-http', ...args], { env: { KAIROS_IMG_CACHE: path.join(work, 'cache'), ...extraEnv } });
}

async function mirrorOk(args: string[]): Promise<Report> {
  const r = await cli(['mirror', ...args, '--json', '-q']);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return json<Report>(r);
}

async function skopeoRaw(ref: string): Promise<Buffer> {
  const { stdout } = await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', ref], { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

beforeAll(async () => {
  await seed({ registry: env.registry, set: 'test' });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-mirror-'));
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('mirror to an OCI layout (sneakernet)', () => {
  it('copies a multi-arch index byte for byte under <repository>:<tag>; a second run copies nothing', async () => {
    const dir = path.join(work, 'usb');
    const first = await mirrorOk([MULTI, LAYERS, '--to', `oci:${dir}`]);
    const upstream = await skopeoRaw(`docker://${MULTI}`);
    expect(first.images).toEqual([
      { source: MULTI, destination: `oci:${dir}:kairos/core-opensuse:v1.4.0`, digest: sha(upstream) },
      { source: LAYERS, destination: `oci:${dir}:test/layers-oci:v1`, digest: sha(await skopeoRaw(`docker://${LAYERS}`)) },
    ]);
    expect(first.blobs.copied).toBeGreaterThan(4);
    // skopeo reads it by the name the issue gives, and gets the same bytes as from the registry.
    expect(sha(await skopeoRaw(`oci:${dir}:kairos/core-opensuse:v1.4.0`))).toBe(sha(upstream));
    const index = JSON.parse(upstream.toString('utf8')) as { manifests: Array<{ digest: string }> };
    expect(index.manifests.length).toBe(2);
    for (const m of index.manifests) expect(existsSync(path.join(dir, 'blobs', 'sha256', m.digest.slice(7)))).toBe(true);

    const again = await mirrorOk([MULTI, LAYERS, '--to', `oci:${dir}`]);
    expect(again.blobs).toEqual({ copied: 0, skipped: first.blobs.copied, mounted: 0, bytes: 0 });
    expect(again.manifests).toBe(0);
  });

  it('--arch keeps the platforms asked for (a new index over them)', async () => {
    const dir = path.join(work, 'arm');
    const r = await mirrorOk([MULTI, '--arch', 'arm64', '--to', `oci:${dir}`]);
    const raw = await skopeoRaw(`oci:${dir}:kairos/core-opensuse:v1.4.0`);
    const idx = JSON.parse(raw.toString('utf8')) as { manifests: Array<{ platform: { architecture: string } }> };
    expect(idx.manifests.map((m) => m.platform.architecture)).toEqual(['arm64']);
    expect(r.images[0]?.digest).toBe(sha(raw));
    expect(r.images[0]?.digest).not.toBe(sha(await skopeoRaw(`docker://${MULTI}`)));
  });

  it('to an oci-archive and back out of it: the image unpacks to the registry\'s tree', async () => {
    const file = path.join(work, 'kairos.tar');
    await mirrorOk([LAYERS, '--to', `oci-archive:${file}`]);
    const second = await mirrorOk([MULTI, '--to', `oci-archive:${file}`]);
    expect(second.blobs.copied).toBeGreaterThan(0);
    // The archive now holds both images; nothing is left beside it.
    expect((await readdir(work)).filter((n) => n.startsWith('.kimg'))).toEqual([]);
    const back = path.join(work, 'back');
    const out = await mirrorOk([`oci-archive:${file}`, '--to', `oci:${back}`]);
    expect(out.images.map((i) => i.destination).sort()).toEqual([`oci:${back}:kairos/core-opensuse:v1.4.0`, `oci:${back}:test/layers-oci:v1`]);
    const fromRegistry = path.join(work, 'tree-registry');
    const fromLayout = path.join(work, 'tree-layout');
    expect((await cli(['unpack', LAYERS, fromRegistry, '-q'])).code).toBe(0);
    const u = await cli(['unpack', `oci:${back}:test/layers-oci:v1`, fromLayout, '-q']);
    expect(u.code, u.stderr).toBe(0);
    expect([...normalizeInodeGroups(await snapshotTree(fromLayout))]).toEqual([...normalizeInodeGroups(await snapshotTree(fromRegistry))]);
  });

  it('an index with no image for this host (arm64 only, as Kairos -img artifacts are) is mirrored whole', async () => {
    const layoutDir = path.join(work, 'arm-only-src');
    const built = await buildMultiArch({
      dir: layoutDir, tag: 'v1', platforms: [{ architecture: 'arm64', variant: 'v8' }],
      layersFor: () => [{ compression: 'gzip', entries: [{ path: 'build/', type: 'dir' }, { path: 'build/disk.img', type: 'file', content: 'not really a disk\n' }] }],
    });
    const ref = `${env.registry}/test/arm-only-${Date.now().toString(36)}:v1`;
    await pushImage({ layoutDir, tag: 'v1', dest: ref });
    const dir = path.join(work, 'arm-only');
    const r = await runCli(['--plain-http', 'mirror', ref, '--to', `oci:${dir}`, '--json', '-q'], { env: { KAIROS_IMG_CACHE: path.join(work, 'cache') } });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(json<Report>(r).images[0]?.digest).toBe(built.digest);
  });

  it('--dry-run lists what would move and writes nothing', async () => {
    const dir = path.join(work, 'dry');
    const r = await mirrorOk([MULTI, '--to', `oci:${dir}`, '--dry-run']);
    expect(r.dryRun).toBe(true);
    expect(r.images.map((i) => i.source)).toEqual([MULTI]);
    expect(r.blobs.copied).toBeGreaterThan(0);
    expect(r.manifests).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('mirror selections', () => {
  it('<flavor> <variant> with --versions N takes the newest N releases; --with-artifacts adds their -img artifacts', async () => {
    const dir = path.join(work, 'sel');
    const r = await mirrorOk(['ubuntu-22-lts', 'core', '--registry', env.registry, '--versions', '2', '--to', `oci:${dir}`]);
    expect(r.images.map((i) => i.source)).toEqual([`${env.registry}/kairos/core-ubuntu-22-lts:v2.3.1`, `${env.registry}/kairos/core-ubuntu-22-lts:v2.3.0`]);
    const range = await mirrorOk(['ubuntu-22-lts', 'core', '--registry', env.registry, '--versions', '<v2.3.1', '--to', `oci:${dir}`, '--dry-run']);
    expect(range.images.map((i) => i.source)).toEqual([`${env.registry}/kairos/core-ubuntu-22-lts:v2.3.0`]);
    const rpi = await mirrorOk(['opensuse-arm-rpi', 'core', '--registry', env.registry, '--versions', '3', '--with-artifacts', '--to', `oci:${dir}`, '--dry-run']);
    expect(rpi.images.map((i) => i.source)).toEqual(expect.arrayContaining([
      `${env.registry}/kairos/opensuse:leap-15.5-core-arm64-rpi4-v2.4.3-img`,
      `${env.registry}/kairos/core-opensuse-arm-rpi-img:v2.3.0`,
    ]));
  });

  it('--with-signatures copies the cosign tags of the image', async () => {
    const dir = path.join(work, 'sig');
    const r = await mirrorOk([MULTI, '--with-signatures', '--to', `oci:${dir}`]);
    const digest = r.images[0]?.digest ?? '';
    const sigTag = `sha256-${digest.slice(7)}.sig`;
    expect(r.images.map((i) => i.destination)).toContain(`oci:${dir}:kairos/core-opensuse:${sigTag}`);
    expect(sha(await skopeoRaw(`oci:${dir}:kairos/core-opensuse:${sigTag}`))).toBe(sha(await skopeoRaw(`docker://${env.registry}/kairos/core-opensuse:${sigTag}`)));
  });

  it('bad destinations and options are usage errors', async () => {
    for (const [args, code] of [
      [[MULTI], 'MISSING_OPTION'],
      [[MULTI, '--to', 'https://reg.local/x'], 'BAD_DESTINATION'],
      [[MULTI, '--to', 'oci:/tmp/x:tag'], 'BAD_DESTINATION'],
      [[MULTI, '--to', `oci:${work}`], 'OUTPUT_NOT_LAYOUT'],
      [['ubuntu-22-lts', 'core', '--versions', 'sometimes', '--to', 'oci:/tmp/x'], 'BAD_OPTION'],
      [['ubuntu-22-lts', '--to', 'oci:/tmp/x'], 'MISSING_ARGUMENT'],
    ] as const) {
      const r = await cli(['mirror', ...args, '--json', '-q']);
      expect([args.join(' '), r.code, json<{ error: { code: string } }>(r).error.code]).toEqual([args.join(' '), 2, code]);
    }
  });
});

describe('ORAS artifacts travel too', () => {
  it('an artifact mirrored into a layout is pulled out of it with artifact pull', async () => {
    const name = `test/oras-${Date.now().toString(36)}`;
    await writeFile(path.join(work, 'disk.img'), 'a disk image, pretend\n');
    await artifactPush({ reference: `${env.registry}/${name}:v1`, files: ['disk.img'], cwd: work, plainHttp: true, env: {} });
    const dir = path.join(work, 'oras-usb');
    await mirrorOk([`${env.registry}/${name}:v1`, '--to', `oci:${dir}`]);
    const out = path.join(work, 'oras-out');
    const r = await cli(['artifact', 'pull', `oci:${dir}:${name}:v1`, '--out', out, '--json', '-q']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(json<{ reference: string }>(r).reference).toBe(`oci:${dir}:${name}:v1`);
    expect(await readFile(path.join(out, 'disk.img'), 'utf8')).toBe('a disk image, pretend\n');
  });
});

describe('mirror reads the layout it wrote', () => {
  it('a layout written by mirror is a source for unpack by <repository>:<tag>', async () => {
    const dir = path.join(work, 'usb');
    if (!existsSync(dir)) await mirrorOk([MULTI, '--to', `oci:${dir}`]);
    const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ annotations: Record<string, string> }> };
    expect(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name'])).toContain('kairos/core-opensuse:v1.4.0');
    const out = path.join(work, 'from-usb');
    const r = await cli(['unpack', `oci:${dir}:kairos/core-opensuse:v1.4.0`, out, '--arch', 'arm64', '--json', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ platform: string }>(r).platform).toBe('linux/arm64/v8');
  });
});
