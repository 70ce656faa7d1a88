// Layer semantics on a real filesystem: entry types, metadata, replacement rules, whiteouts, formats,
// atomicity of the target directory.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KairosImgError } from '../../../src/errors.js';
import { applyLayer, unpackImage, unpackTarStreams, type LayerInput } from '../../../src/unpack/index.js';
import { gnuLongName, gzip, layerOf, paxEntry, rawTar, sandbox, snapshotTree, streamOf, tarOf, zstd, type Entry, type Sandbox } from '../../helpers/layers.js';

const TAR = 'application/vnd.oci.image.layer.v1.tar';
const GZ = 'application/vnd.oci.image.layer.v1.tar+gzip';
const ZST = 'application/vnd.oci.image.layer.v1.tar+zstd';
const DOCKER_GZ = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
let sb: Sandbox;
let dir: string;

beforeEach(async () => {
  sb = await sandbox();
  dir = join(sb.base, 'target');
});
afterEach(async () => {
  await sb.cleanup();
});

const T1 = new Date('2021-02-03T04:05:06Z');
const T2 = new Date('2022-03-04T05:06:07Z');
const f = (path: string, content = `${path}\n`, extra: Partial<Entry> = {}): Entry => ({ path, type: 'file', content, mtime: T1, ...extra });
const d = (path: string, extra: Partial<Entry> = {}): Entry => ({ path, type: 'dir', mtime: T2, ...extra });
const s = (path: string, linkname: string): Entry => ({ path, type: 'symlink', linkname, mtime: T1 });
const h = (path: string, linkname: string): Entry => ({ path, type: 'hardlink', linkname });
const wh = (path: string): Entry => ({ path, type: 'file', content: '' });

async function tarLayer(entries: Entry[], mediaType = TAR): Promise<LayerInput> {
  const raw = await tarOf(entries);
  const blob = mediaType.endsWith('gzip') ? gzip(raw) : mediaType.endsWith('zstd') ? await zstd(raw) : raw;
  return layerOf(blob, mediaType);
}

async function unpackEntries(...layers: Entry[][]) {
  return unpackImage({ dir, layers: await Promise.all(layers.map((l) => tarLayer(l))) });
}

const read = (p: string) => fs.readFileSync(join(dir, p), 'utf8');
const lst = (p: string) => fs.lstatSync(join(dir, p));
const exists = (p: string) => fs.existsSync(join(dir, p)) || (() => { try { lst(p); return true; } catch { return false; } })();

describe('entry types and metadata', () => {
  it('files, directories, symlinks, hardlinks with modes (setuid/setgid/sticky), times and names', async () => {
    const old = process.umask(0o077);
    try {
      const longName = `${'long-directory-name/'.repeat(8)}file-${'x'.repeat(120)}`;
      const r = await unpackEntries([
        d('bin/'),
        f('bin/su', '#!/bin/su\n', { mode: 0o4755 }),
        f('bin/wall', 'wall\n', { mode: 0o2755 }),
        d('tmp/', { mode: 0o1777 }),
        d('ro/', { mode: 0o555 }),
        f('ro/inside', 'ro\n', { mode: 0o444 }),
        s('bin/sh', 'su'),
        s('dangling', '/does/not/exist'),
        h('bin/su-hard', 'bin/su'),
        d('ünïcödé/'),
        f('ünïcödé/日本語.txt', 'utf8\n'),
        f(longName, 'long\n'),
      ]);
      expect(r).toMatchObject({ layers: 1, files: 5, dirs: 4, symlinks: 2, hardlinks: 1, whiteouts: 0 });
      expect(r.entries).toBe(12);
      expect(lst('bin/su').mode & 0o7777).toBe(0o4755);
      expect(lst('bin/wall').mode & 0o7777).toBe(0o2755);
      expect(lst('tmp').mode & 0o7777).toBe(0o1777);
      expect(lst('ro').mode & 0o7777).toBe(0o555);
      expect(lst('ro/inside').mode & 0o7777).toBe(0o444);
      expect(lst('.').mode & 0o7777).toBe(0o755);
      expect(fs.readlinkSync(join(dir, 'bin/sh'))).toBe('su');
      expect(fs.readlinkSync(join(dir, 'dangling'))).toBe('/does/not/exist');
      expect(lst('bin/su-hard').ino).toBe(lst('bin/su').ino);
      expect(read('ünïcödé/日本語.txt')).toBe('utf8\n');
      expect(read(longName)).toBe('long\n');
      // Times: files and symlinks from their entries, directories after their content was written.
      expect(lst('bin/su').mtime.getTime()).toBe(T1.getTime());
      expect(lst('bin/sh').mtime.getTime()).toBe(T1.getTime());
      expect(lst('bin').mtime.getTime()).toBe(T2.getTime());
      expect(lst('ro').mtime.getTime()).toBe(T2.getTime());
    } finally {
      process.umask(old);
    }
  });

  it('GNU long names and PAX long link targets', async () => {
    const name = `gnu/${'n'.repeat(150)}`;
    const target = `${'t'.repeat(200)}/x`;
    await unpackImage({
      dir,
      layers: [
        layerOf(
          rawTar(
            gnuLongName(name, { name: 'x', typeflag: '0', mode: 0o640 }, Buffer.from('gnu\n')),
            paxEntry({ path: 'pax-link', linkpath: target }, { name: 'x', typeflag: '2' }),
            paxEntry({ path: 'pax-time', mtime: '1234567890.5' }, { name: 'x', typeflag: '0' }, Buffer.from('t\n')),
          ),
          TAR,
        ),
      ],
    });
    expect(read(name)).toBe('gnu\n');
    expect(lst(name).mode & 0o777).toBe(0o640);
    expect(fs.readlinkSync(join(dir, 'pax-link'))).toBe(target);
    expect(lst('pax-time').mtimeMs).toBe(1234567890500);
  });

  it('owners as root; skipped and counted without preserveOwners', async () => {
    const entries = [d('home/', { uid: 1000, gid: 1000 }), f('home/u', 'u\n', { uid: 1000, gid: 100 }), s('home/l', 'u')];
    if (process.getuid?.() === 0) {
      await unpackImage({ dir, layers: [await tarLayer(entries)] });
      expect(lst('home/u').uid).toBe(1000);
      expect(lst('home/u').gid).toBe(100);
      expect(lst('home').uid).toBe(1000);
      await fsp.rm(dir, { recursive: true });
    }
    const r = await unpackImage({ dir, layers: [await tarLayer(entries)], preserveOwners: false });
    expect(r.skipped.owners).toBe(2);
    expect(lst('home/u').uid).toBe(process.getuid?.());
  });

  it('device nodes as root, skipped and counted otherwise; fifos always', async () => {
    const entries: Entry[] = [
      { path: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
      { path: 'dev/loop0', type: 'block', devmajor: 7, devminor: 0, mode: 0o660 },
      { path: 'run/fifo', type: 'fifo', mode: 0o600 },
    ];
    if (process.getuid?.() === 0) {
      await unpackImage({ dir, layers: [await tarLayer(entries)] });
      const st = lst('dev/null');
      expect(st.isCharacterDevice()).toBe(true);
      expect(st.rdev).toBe(fs.statSync('/dev/null').rdev);
      expect(st.mode & 0o777).toBe(0o666);
      expect(lst('dev/loop0').isBlockDevice()).toBe(true);
      await fsp.rm(dir, { recursive: true });
    }
    const r = await unpackImage({ dir, layers: [await tarLayer(entries)], preserveOwners: false });
    expect(r.skipped.devices).toBe(2);
    expect(exists('dev/null')).toBe(false);
    expect(lst('run/fifo').isFIFO()).toBe(true);
    expect(r.warnings.join('\n')).toMatch(/device node "dev\/null" skipped/);
  });

  it('xattrs: privileged ones skipped and counted without preserveOwners', async () => {
    const r = await unpackImage({
      dir,
      layers: [await tarLayer([f('bin/ping', 'p\n', { pax: { 'SCHILY.xattr.security.capability': 'cap' } })])],
      preserveOwners: false,
    });
    expect(r.skipped.xattrs).toBe(1);
    expect(read('bin/ping')).toBe('p\n');
  });
});

describe('layer semantics', () => {
  it('a later layer replaces a directory with a file and a file with a directory', async () => {
    await unpackEntries(
      [d('a/'), f('a/x'), d('a/sub/'), f('a/sub/y'), f('b'), s('c', 'a')],
      [f('a', 'now a file\n'), d('b/'), f('b/z'), d('c/'), f('c/w')],
    );
    expect(lst('a').isFile()).toBe(true);
    expect(read('a')).toBe('now a file\n');
    expect(lst('b').isDirectory()).toBe(true);
    expect(read('b/z')).toBe('b/z\n');
    expect(lst('c').isDirectory()).toBe(true);
    expect(read('c/w')).toBe('c/w\n');
  });

  it('a directory over a directory merges and takes the new metadata', async () => {
    await unpackEntries([d('m/', { mode: 0o700 }), f('m/lower')], [d('m/', { mode: 0o750 }), f('m/upper')]);
    expect(read('m/lower')).toBe('m/lower\n');
    expect(read('m/upper')).toBe('m/upper\n');
    expect(lst('m').mode & 0o777).toBe(0o750);
  });

  it('whiteouts remove files, symlinks and whole subtrees of lower layers', async () => {
    const r = await unpackEntries(
      [d('etc/'), f('etc/a'), f('etc/b'), d('var/'), d('var/lib/'), d('var/lib/deep/'), f('var/lib/deep/f'), s('link', 'etc')],
      [wh('etc/.wh.a'), wh('.wh.var'), wh('.wh.link'), wh('etc/.wh.never-existed')],
    );
    expect(r.whiteouts).toBe(4);
    expect(exists('etc/a')).toBe(false);
    expect(read('etc/b')).toBe('etc/b\n');
    expect(exists('var')).toBe(false);
    expect(exists('link')).toBe(false);
    // Whiteout files themselves never appear.
    expect((await snapshotTree(dir)).size).toBe(2);
  });

  it('an opaque directory clears lower content but keeps this layer`s entries, wherever the marker sits', async () => {
    await unpackEntries(
      [d('o/'), f('o/lower1'), d('o/sub/'), f('o/sub/lower2'), d('p/'), f('p/lower'), d('p/keep/'), f('p/keep/lower')],
      // `o`: marker first (the usual order). `p`: marker after this layer's siblings, some nested.
      [d('o/'), wh('o/.wh..wh..opq'), f('o/upper'), d('p/'), f('p/upper'), f('p/keep/upper'), wh('p/.wh..wh..opq')],
    );
    const tree = await snapshotTree(dir);
    expect([...tree.keys()].sort()).toEqual(['o', 'o/upper', 'p', 'p/keep', 'p/keep/upper', 'p/upper']);
  });

  it('a whiteout after an entry of the same layer does not hide that entry', async () => {
    await unpackEntries([d('w/'), f('w/lower'), f('x', 'lower\n')], [d('w/'), f('w/upper'), wh('.wh.w'), f('x', 'upper\n'), wh('.wh.x')]);
    expect(read('w/upper')).toBe('w/upper\n');
    expect(exists('w/lower')).toBe(false);
    expect(read('x')).toBe('upper\n');
  });

  it('hardlinks to files of lower layers; replacing one link leaves the other', async () => {
    await unpackEntries([f('lib/a', 'A\n'), h('lib/b', 'lib/a')], [h('lib/c', 'lib/a'), f('lib/b', 'new B\n')]);
    expect(lst('lib/c').ino).toBe(lst('lib/a').ino);
    expect(lst('lib/a').nlink).toBe(2);
    expect(read('lib/a')).toBe('A\n');
    expect(read('lib/b')).toBe('new B\n');
  });

  it('a `./` entry sets the root directory`s mode and time', async () => {
    await unpackEntries([{ path: './', type: 'dir', mode: 0o750, mtime: T2, raw: true }, f('a')]);
    expect(lst('.').mode & 0o777).toBe(0o750);
    expect(lst('.').mtime.getTime()).toBe(T2.getTime());
  });

  it('progress reports reach the blob size of each layer', async () => {
    const l1 = await tarLayer([f('big', 'x'.repeat(1_000_000))], GZ);
    const l2 = await tarLayer([f('small')], TAR);
    const last = new Map<number, number>();
    await unpackImage({ dir, layers: [l1, l2], onProgress: (p) => last.set(p.layer, p.bytes) });
    expect(last.get(0)).toBe(l1.size);
    expect(last.get(1)).toBe(l2.size);
  });

  it('implicit parent directories are created', async () => {
    await unpackEntries([{ path: 'no/parents/here', type: 'file', content: 'x', raw: true }]);
    expect(read('no/parents/here')).toBe('x');
    expect(lst('no/parents').mode & 0o777).toBe(0o755);
  });

  it('an entry under a file is refused', async () => {
    const e = await unpackEntries([f('file')], [{ path: 'file/child', type: 'file', content: 'x', raw: true }]).catch((err: unknown) => err);
    expect((e as KairosImgError).code).toBe('UNPACK_BAD_ENTRY');
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('formats', () => {
  const entries = [d('etc/'), f('etc/os-release', 'ID=kairos\n'), f('big', 'z'.repeat(3_000_000))];
  it.each([
    ['OCI tar', TAR],
    ['OCI gzip', GZ],
    ['OCI zstd', ZST],
    ['Docker gzip', DOCKER_GZ],
  ])('%s', async (_n, mediaType) => {
    const r = await unpackImage({ dir, layers: [await tarLayer(entries, mediaType)] });
    expect(read('etc/os-release')).toBe('ID=kairos\n');
    expect(lst('big').size).toBe(3_000_000);
    expect(r.bytes).toBe(3_000_010);
  });

  it.each(['binary', 'fzstd'] as const)('zstd via %s, multi-frame', async (decoder) => {
    const raw = await tarOf(entries);
    const blob = Buffer.concat([await zstd(raw.subarray(0, 100_000)), await zstd(raw.subarray(100_000))]);
    await unpackImage({ dir, layers: [layerOf(blob, ZST)], zstd: decoder });
    expect(lst('big').size).toBe(3_000_000);
  });

  it('a media type that disagrees with the magic bytes is refused and nothing is left', async () => {
    const raw = await tarOf(entries);
    for (const [blob, mt, msg] of [
      [gzip(raw), ZST, /expected zstd but its content is gzip/],
      [raw, GZ, /expected gzip but its content is an uncompressed tar/],
      [await zstd(raw), DOCKER_GZ, /expected gzip but its content is zstd/],
    ] as const) {
      const e = await unpackImage({ dir, layers: [layerOf(blob, mt)] }).catch((err: unknown) => err);
      expect((e as KairosImgError).code).toBe('UNPACK_LAYER_FORMAT_MISMATCH');
      expect((e as KairosImgError).message).toMatch(msg);
    }
    expect(fs.readdirSync(sb.base).sort()).toEqual(['outside', 'root']);
  });

  it.each([
    ['gzip', GZ, (b: Buffer) => gzip(b)],
    ['zstd', ZST, (b: Buffer) => zstd(b)],
  ])('corrupt %s data fails as UNPACK_LAYER_CORRUPT', async (_n, mt, compress) => {
    const blob = Buffer.from(await compress(await tarOf(entries)));
    for (let i = 200; i < 400; i++) blob[i] = (blob[i] as number) ^ 0x5a;
    const e = await unpackImage({ dir, layers: [layerOf(blob, mt)] }).catch((err: unknown) => err);
    expect((e as KairosImgError).kind).toBe('operational');
    expect(fs.readdirSync(sb.base).sort()).toEqual(['outside', 'root']);
  });

  it('a truncated tar fails', async () => {
    const raw = await tarOf(entries);
    const e = await unpackImage({ dir, layers: [layerOf(raw.subarray(0, 600_000), TAR)] }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(KairosImgError);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('applyLayer applies one layer into an existing root', async () => {
    await fsp.mkdir(dir);
    const st = await applyLayer({ root: dir, stream: streamOf(gzip(await tarOf(entries))), mediaType: GZ });
    expect(st).toMatchObject({ files: 2, dirs: 1, bytes: 3_000_010 });
    expect(read('etc/os-release')).toBe('ID=kairos\n');
  });
});

describe('atomicity', () => {
  const base = [d('etc/'), f('etc/hostname', 'new\n')];
  async function prepareExisting(): Promise<void> {
    await fsp.mkdir(dir);
    await fsp.writeFile(join(dir, 'old'), 'old\n');
  }
  const siblings = () => fs.readdirSync(sb.base).sort();

  it('a non-empty target is refused without force, with a --force hint', async () => {
    await prepareExisting();
    const e = await unpackImage({ dir, layers: [await tarLayer(base)] }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(KairosImgError);
    expect((e as KairosImgError).kind).toBe('usage');
    expect((e as KairosImgError).code).toBe('UNPACK_TARGET_NOT_EMPTY');
    expect((e as KairosImgError).hint).toMatch(/--force/);
    expect(read('old')).toBe('old\n');
    expect(siblings()).toEqual(['outside', 'root', 'target']);
  });

  it('an empty target is used; a forced one is replaced', async () => {
    await fsp.mkdir(dir);
    await unpackImage({ dir, layers: [await tarLayer(base)] });
    expect(read('etc/hostname')).toBe('new\n');
    await unpackImage({ dir, layers: [await tarLayer([f('second')])], force: true });
    expect(fs.readdirSync(dir)).toEqual(['second']);
    expect(siblings()).toEqual(['outside', 'root', 'target']);
  });

  it('a stream failing midway in the second layer leaves the target as it was', async () => {
    await prepareExisting();
    const good = await tarLayer(base);
    const bigTar = gzip(await tarOf([f('huge', 'q'.repeat(5_000_000))]));
    const cut: LayerInput = {
      digest: 'sha256:cut',
      size: bigTar.length,
      mediaType: GZ,
      open: async () =>
        Readable.from(
          (async function* () {
            yield bigTar.subarray(0, 2000);
            throw new KairosImgError('DIGEST_MISMATCH', 'digest mismatch');
          })(),
        ),
    };
    const e = await unpackImage({ dir, layers: [good, cut], force: true }).catch((err: unknown) => err);
    expect((e as KairosImgError).code).toBe('DIGEST_MISMATCH');
    expect(fs.readdirSync(dir)).toEqual(['old']);
    expect(siblings()).toEqual(['outside', 'root', 'target']);
  });

  it('an abort midway leaves the target as it was and reports interrupted', async () => {
    await prepareExisting();
    const ac = new AbortController();
    const slow: LayerInput = {
      digest: 'sha256:slow',
      size: 0,
      mediaType: TAR,
      open: async () => {
        const raw = await tarOf([f('a'), f('b', 'b'.repeat(2_000_000))]);
        return Readable.from(
          (async function* () {
            yield raw.subarray(0, 1500);
            ac.abort();
            await new Promise((r) => setTimeout(r, 50));
            yield raw.subarray(1500);
          })(),
        );
      },
    };
    const e = await unpackImage({ dir, layers: [slow], force: true, signal: ac.signal }).catch((err: unknown) => err);
    expect((e as KairosImgError).kind).toBe('interrupted');
    expect(fs.readdirSync(dir)).toEqual(['old']);
    expect(siblings()).toEqual(['outside', 'root', 'target']);
  });

  it('prefetches the next layer while applying the current one, applies in order', async () => {
    const events: string[] = [];
    const mk = async (name: string, entries: Entry[]): Promise<LayerInput> => {
      const l = await tarLayer(entries);
      return { ...l, open: async (sig) => { events.push(`open ${name}`); return l.open(sig); } };
    };
    const r = await unpackImage({
      dir,
      layers: [await mk('1', [f('x', '1\n')]), await mk('2', [f('x', '2\n')]), await mk('3', [f('x', '3\n')])],
      onProgress: (p) => events.push(`progress ${p.layer}`),
    });
    expect(read('x')).toBe('3\n');
    expect(r.layers).toBe(3);
    expect(events.indexOf('open 2')).toBeLessThan(events.indexOf('progress 0'));
    expect(events.indexOf('open 3')).toBeLessThan(events.indexOf('progress 1'));
  });
});

describe('unpackTarStreams (non-layer tar streams, e.g. docker export)', () => {
  it('writes plain tar streams atomically and keeps .wh. files as files', async () => {
    const r = await unpackTarStreams({ dir, streams: [streamOf(await tarOf([f('etc/.wh.keep', 'real\n'), f('../escape')]))] });
    expect(read('etc/.wh.keep')).toBe('real\n');
    expect(read('escape')).toBe('../escape\n');
    expect(r.whiteouts).toBe(0);
    expect(fs.readdirSync(sb.base).sort()).toEqual(['outside', 'root', 'target']);
  });

  it('accepts stream factories and gzip by magic bytes', async () => {
    const blob = gzip(await tarOf([f('a')]));
    await unpackTarStreams({ dir, streams: [async () => streamOf(blob)] });
    expect(read('a')).toBe('a\n');
  });
});
