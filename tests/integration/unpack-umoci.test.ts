// Our unpack against umoci's (`umoci unpack --rootless`) for the same multi-layer image: paths, types,
// modes, sizes, content hashes, symlink targets and hardlink identity must be identical.
// Needs no registry: both read the same OCI image layout on disk.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, opaqueWhiteout, whiteout, type Entry, type ImageFormat, type LayerSpec } from '../../scripts/fixtures/image-builder.mjs';
import { unpackImage, type LayerInput } from '../../src/unpack/index.js';
import { normalizeInodeGroups, snapshotTree, type TreeNode } from '../helpers/layers.js';

let work: string;

beforeAll(async () => {
  work = await fsp.mkdtemp(join(tmpdir(), 'kimg-umoci-'));
});
afterAll(async () => {
  await fsp.rm(work, { recursive: true, force: true });
});

const f = (path: string, content: string | Buffer = `${path}\n`, extra: Partial<Entry> = {}): Entry => ({ path, type: 'file', content, ...extra });
const d = (path: string, extra: Partial<Entry> = {}): Entry => ({ path, type: 'dir', ...extra });
const s = (path: string, linkname: string): Entry => ({ path, type: 'symlink', linkname });
const h = (path: string, linkname: string): Entry => ({ path, type: 'hardlink', linkname });

/** A Kairos-shaped tree exercising every rule: three layers with replacements and whiteouts. */
function imageLayers(compression: 'gzip' | 'zstd' | 'none'): LayerSpec[] {
  const blob = Buffer.alloc(2_500_000);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 2654435761) >>> 24;
  return [
    {
      compression,
      entries: [
        d('bin'), f('bin/busybox', blob, { mode: 0o755 }), s('bin/sh', 'busybox'), h('bin/ls', 'bin/busybox'),
        d('usr'), d('usr/bin'), f('usr/bin/passwd', 'passwd\n', { mode: 0o4755 }), f('usr/bin/wall', 'wall\n', { mode: 0o2711 }),
        d('tmp', { mode: 0o1777 }), d('etc'), f('etc/os-release', 'ID=kairos\n'), f('etc/shadow', 'root:*\n', { mode: 0o640 }),
        d('etc/ssl'), d('etc/ssl/certs'), f('etc/ssl/certs/ca.pem', 'CA\n'), s('etc/ssl/cert.pem', 'certs/ca.pem'),
        d('var'), d('var/cache'), f('var/cache/a'), d('var/cache/sub'), f('var/cache/sub/b'),
        d('opt'), d('opt/app'), f('opt/app/lower'), d('opt/app/keep'), f('opt/app/keep/lower'),
        d('lib'), f('lib/file-becomes-dir'), d('lib/dir-becomes-file'), f('lib/dir-becomes-file/x'),
        d('home'), d('home/ünïcödé'), f('home/ünïcödé/日本語.txt', 'utf8\n'),
        f(`home/${'long-name-'.repeat(12)}end`, 'long\n'),
        s('run', '/var/run'), s('dangling', '/does/not/exist'),
      ],
    },
    {
      compression,
      entries: [
        d('etc'), f('etc/os-release', 'ID=kairos\nVERSION=2\n'), whiteout('etc/shadow'),
        whiteout('var/cache'), d('opt'), d('opt/app'), opaqueWhiteout('opt/app'), f('opt/app/upper'),
        d('lib'), f('lib/dir-becomes-file', 'now a file\n'), d('lib/file-becomes-dir'), f('lib/file-becomes-dir/y'),
        h('usr/bin/ls-again', 'bin/busybox'), f('usr/bin/passwd', 'passwd v2\n', { mode: 0o4755 }),
      ],
    },
    {
      compression,
      entries: [d('var'), d('var/cache'), f('var/cache/fresh'), d('etc'), d('etc/ro', { mode: 0o555 }), f('etc/ro/x', 'x\n', { mode: 0o444 }), whiteout('bin/sh')],
    },
  ];
}

async function layoutLayers(layout: string, tag: string): Promise<LayerInput[]> {
  const index = JSON.parse(await fsp.readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!desc) throw new Error(`tag ${tag} not in ${layout}`);
  const blob = (digest: string) => join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const manifest = JSON.parse(await fsp.readFile(blob(desc.digest), 'utf8')) as { layers: Array<{ digest: string; size: number; mediaType: string }> };
  return manifest.layers.map((l) => ({ ...l, open: async () => fs.createReadStream(blob(l.digest)) }));
}

async function build(name: string, format: ImageFormat, compression: 'gzip' | 'zstd' | 'none'): Promise<string> {
  const layout = join(work, name);
  await buildImage({ dir: layout, tag: 'test', format, layers: imageLayers(compression) });
  return layout;
}

async function umociRootfs(layout: string, name: string): Promise<string> {
  const bundle = join(work, `${name}-bundle`);
  await execa('umoci', ['unpack', '--rootless', '--image', `${layout}:test`, bundle]);
  return join(bundle, 'rootfs');
}

async function ours(layout: string, name: string): Promise<string> {
  const dir = join(work, `${name}-ours`);
  // preserveOwners off, like umoci --rootless: the comparison is about the tree, not ids.
  const report = await unpackImage({ dir, layers: await layoutLayers(layout, 'test'), preserveOwners: false });
  expect(report.layers).toBe(3);
  expect(report.whiteouts).toBe(4);
  return dir;
}

function diff(a: Map<string, TreeNode>, b: Map<string, TreeNode>): string[] {
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = JSON.stringify(a.get(k));
    const y = JSON.stringify(b.get(k));
    if (x !== y) out.push(`${k}: ours ${x} reference ${y}`);
  }
  return out;
}

async function expectSameTree(oursDir: string, referenceDir: string): Promise<Map<string, TreeNode>> {
  const a = normalizeInodeGroups(await snapshotTree(oursDir));
  const b = normalizeInodeGroups(await snapshotTree(referenceDir));
  expect(diff(a, b)).toEqual([]);
  return a;
}

function expectRulesApplied(tree: Map<string, TreeNode>): void {
  // Guard against two equally wrong trees: spot-check the rules the image exercises.
  expect(tree.get('etc/shadow')).toBeUndefined();
  expect(tree.get('var/cache/a')).toBeUndefined();
  expect(tree.get('var/cache/fresh')?.type).toBe('file');
  expect([...tree.keys()].filter((k) => k.startsWith('opt/app/')).sort()).toEqual(['opt/app/upper']);
  expect(tree.get('lib/dir-becomes-file')?.type).toBe('file');
  expect(tree.get('lib/file-becomes-dir')?.type).toBe('dir');
  expect(tree.get('bin/sh')).toBeUndefined();
  expect(tree.get('usr/bin/passwd')?.mode).toBe(0o4755);
  expect(tree.get('usr/bin/wall')?.mode).toBe(0o2711);
  expect(tree.get('tmp')?.mode).toBe(0o1777);
  const group = tree.get('bin/busybox')?.inodeGroup;
  expect(group).toBeDefined();
  expect(tree.get('bin/ls')?.inodeGroup).toBe(group);
  expect(tree.get('usr/bin/ls-again')?.inodeGroup).toBe(group);
  expect(tree.get('etc/ssl/cert.pem')?.target).toBe('certs/ca.pem');
}

describe('unpack compared with umoci', () => {
  it('OCI image (gzip layers): identical to umoci unpack --rootless', async () => {
    const layout = await build('oci', 'oci', 'gzip');
    const tree = await expectSameTree(await ours(layout, 'oci'), await umociRootfs(layout, 'oci'));
    expectRulesApplied(tree);
  });

  it('OCI image (uncompressed layers): identical to umoci', async () => {
    const layout = await build('oci-tar', 'oci', 'none');
    expectRulesApplied(await expectSameTree(await ours(layout, 'oci-tar'), await umociRootfs(layout, 'oci-tar')));
  });

  it('Docker schema 2 image: identical to umoci, or umoci refuses it', async () => {
    const layout = await build('docker', 'docker', 'gzip');
    expect((await layoutLayers(layout, 'test')).map((l) => l.mediaType)).toEqual(Array(3).fill('application/vnd.docker.image.rootfs.diff.tar.gzip'));
    const mine = await ours(layout, 'docker');
    const umoci = await execa('umoci', ['unpack', '--rootless', '--image', `${layout}:test`, join(work, 'docker-bundle')], { reject: false });
    if (umoci.exitCode === 0) {
      expectRulesApplied(await expectSameTree(mine, join(work, 'docker-bundle', 'rootfs')));
    } else {
      // umoci 0.4.7 reads only OCI manifests. The Docker image has the very same layer tars (only
      // the media types differ), so its unpack must equal umoci's unpack of the OCI twin.
      expect(umoci.stderr).toMatch(/media ?type|mediatype|manifest/i);
      const twin = await build('docker-twin', 'oci', 'gzip');
      expectRulesApplied(await expectSameTree(mine, await umociRootfs(twin, 'docker-twin')));
    }
  });

  it('zstd layers: same tree as umoci gives for the gzip twin', async () => {
    const layout = await build('zstd', 'oci', 'zstd');
    const mine = await ours(layout, 'zstd');
    const umoci = await execa('umoci', ['unpack', '--rootless', '--image', `${layout}:test`, join(work, 'zstd-bundle')], { reject: false });
    // umoci 0.4.7 has no zstd ("blob is not correct mediatype"): then the gzip twin (same tars) is the reference.
    if (umoci.exitCode !== 0) expect(umoci.stderr).toMatch(/mediatype/i);
    const reference = umoci.exitCode === 0 ? join(work, 'zstd-bundle', 'rootfs') : await umociRootfs(await build('zstd-twin', 'oci', 'gzip'), 'zstd-twin');
    expectRulesApplied(await expectSameTree(mine, reference));
  });
});
