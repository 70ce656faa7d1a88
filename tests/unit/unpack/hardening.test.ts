// The adversarial pass on the tar walk (issue 13), one crafted layer per finding: header-only
// entries with a size, GNU sparse files, names as bytes, opaque markers in symlinked directories,
// many whiteouts, and the errors and warnings that must name their problem and its fix.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { createArtifactSink } from '../../../src/artifacts/artifact-sink.js';
import { extractArtifactLayer } from '../../../src/artifacts/extract-layer.js';
import { KairosImgError } from '../../../src/errors.js';
import { unpackImage, type LayerInput } from '../../../src/unpack/index.js';
import { readImageFiles } from '../../../src/unpack/read-files.js';
import {
  BLOCK,
  headerOnly,
  layerOf,
  paxEntry,
  paxGlobal,
  rawEntry,
  rawHeader,
  rawTar,
  sandboxEachTest,
  tarOf,
  type Entry,
} from '../../helpers/layers.js';

const TAR = 'application/vnd.oci.image.layer.v1.tar';
const box = sandboxEachTest();

const unpackBuffers = (...tars: Buffer[]) => unpackImage({ dir: box.dir, layers: tars.map((t) => layerOf(t, TAR)), force: true });
const failure = (p: Promise<unknown>): Promise<KairosImgError> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(KairosImgError);
      return e as KairosImgError;
    },
  );
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const names = (p = box.dir): string[] => fs.readdirSync(p, { encoding: 'buffer' }).map((b) => b.toString('latin1')).sort();
const siblings = (): string[] => fs.readdirSync(box.sb.base).sort();
const isRoot = process.getuid?.() === 0;

describe('non-file entries whose header gives a size (GNU tar and Go read them as header-only)', () => {
  it('a directory, fifo, symlink and hardlink with a size are followed directly by the next header', async () => {
    const tar = rawTar(
      rawEntry({ name: 'file', typeflag: '0' }, Buffer.from('content\n')),
      headerOnly({ name: 'd/', typeflag: '5', size: 5, mode: 0o750 }),
      headerOnly({ name: 'fifo', typeflag: '6', size: 5 }),
      headerOnly({ name: 'sym', typeflag: '2', size: 5, linkname: 'file' }),
      headerOnly({ name: 'hard', typeflag: '1', size: 5, linkname: 'file' }),
      rawEntry({ name: 'd/after', typeflag: '0' }, Buffer.from('after\n')),
    );
    await unpackBuffers(tar);
    expect(names()).toEqual(['d', 'fifo', 'file', 'hard', 'sym']);
    expect(fs.readFileSync(join(box.dir, 'd/after'), 'utf8')).toBe('after\n');
    expect(fs.lstatSync(join(box.dir, 'hard')).ino).toBe(fs.lstatSync(join(box.dir, 'file')).ino);
    expect(siblings()).toEqual(['outside', 'root', 'target']);
  });

  it('a directory with a size followed by data blocks fails clearly and leaves no staging directory', async () => {
    const tar = rawTar(rawEntry({ name: 'd/', typeflag: '5' }, Buffer.from('xxxxx')), rawEntry({ name: 'd/f', typeflag: '0' }, Buffer.from('f')));
    // rawEntry writes the size of its body: the directory claims 5 bytes and they follow it.
    const e = await failure(unpackBuffers(tar));
    expect(e.code).toBe('UNPACK_LAYER_CORRUPT');
    expect(e.message).toMatch(/not a tar header|checksum/);
    expect(e.hint).toBeTruthy();
    expect(siblings()).toEqual(['outside', 'root']);
  });

  it('image file reads and artifact layers get through header-only directories too', async () => {
    const tar = rawTar(headerOnly({ name: 'build/', typeflag: '5', size: 3 }), rawEntry({ name: 'build/k.img', typeflag: '0' }, Buffer.from('disk')));
    const r = await readImageFiles({ layers: [{ digest: 'sha256:x', mediaType: TAR, size: tar.length, open: () => Readable.from([tar]) }], paths: ['/build/k.img'] });
    expect(r.lookup('/build/k.img')).toMatchObject({ state: 'present', content: Buffer.from('disk') });
    const sink = await createArtifactSink({ outDir: box.dir, label: 'artifact' });
    const stats = await extractArtifactLayer({ blob: Readable.from([tar]), mediaType: TAR, sink, label: 'artifact' });
    expect(stats.files).toBe(1);
    await sink.finish();
    expect(fs.readFileSync(join(box.dir, 'k.img'), 'utf8')).toBe('disk');
  });
});

describe('GNU sparse files (written by GNU tar itself)', () => {
  const MiB = 1024 * 1024;
  async function sparseSource(): Promise<{ path: string; content: Buffer }> {
    const src = join(box.sb.base, 'src');
    await fsp.mkdir(src);
    const path = join(src, 'sparse.db');
    const fd = fs.openSync(path, 'w');
    fs.writeSync(fd, Buffer.alloc(5000, 'A'), 0, 5000, 0);
    fs.writeSync(fd, Buffer.alloc(100, 'B'), 0, 100, MiB);
    fs.writeSync(fd, Buffer.alloc(700, 'C'), 0, 700, 2 * MiB + 17);
    fs.ftruncateSync(fd, 5 * MiB); // ends in a hole
    fs.closeSync(fd);
    return { path, content: fs.readFileSync(path) };
  }

  it.each([
    ['old GNU (type S)', ['-H', 'gnu']],
    ['PAX 0.0', ['-H', 'posix', '--sparse-version=0.0']],
    ['PAX 0.1', ['-H', 'posix', '--sparse-version=0.1']],
    ['PAX 1.0', ['-H', 'posix', '--sparse-version=1.0']],
  ])('%s: the content comes back and the holes stay holes', async (_n, format) => {
    const { content } = await sparseSource();
    const r = await execa('tar', ['--sparse', ...format, '-cf', '-', '-C', join(box.sb.base, 'src'), 'sparse.db'], { encoding: 'buffer' });
    const tar = Buffer.from(r.stdout);
    expect(tar.length).toBeLessThan(64 * 1024); // really sparse in the archive
    const report = await unpackBuffers(tar);
    expect(names()).toEqual(['sparse.db']);
    const out = join(box.dir, 'sparse.db');
    expect(fs.statSync(out).size).toBe(5 * MiB);
    expect(fs.readFileSync(out).equals(content)).toBe(true);
    expect(fs.statSync(out).blocks * 512).toBeLessThan(256 * 1024);
    expect(report.bytes).toBeGreaterThanOrEqual(5800);
    expect(report.bytes).toBeLessThan(64 * 1024);
  });

  it('image file reads see a sparse file`s holes as zeros', async () => {
    const { content } = await sparseSource();
    const r = await execa('tar', ['--sparse', '-H', 'posix', '-cf', '-', '-C', join(box.sb.base, 'src'), 'sparse.db'], { encoding: 'buffer' });
    const tar = Buffer.from(r.stdout);
    const files = await readImageFiles({
      layers: [{ digest: 'sha256:x', mediaType: TAR, size: tar.length, open: () => Readable.from([tar]) }],
      paths: ['/sparse.db'],
      maxFileSize: 8 * MiB,
    });
    const l = files.lookup('/sparse.db');
    expect(l.state).toBe('present');
    expect(l.state === 'present' && l.content.equals(content)).toBe(true);
  });

  it('an unknown typeflag is never written as a file; a sparse PAX version we do not know is refused', async () => {
    const r = await unpackBuffers(rawTar(rawEntry({ name: 'mystery', typeflag: 'Q' }, Buffer.from('data')), rawEntry({ name: 'ok', typeflag: '0' })));
    expect(names()).toEqual(['ok']);
    expect(r.warnings.join('\n')).toMatch(/mystery.*type Q.*skipped/);
    await fsp.rm(box.dir, { recursive: true });
    const e = await failure(
      unpackBuffers(rawTar(paxEntry({ 'GNU.sparse.major': '2', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'x' }, { name: 'GNUSparseFile.0/x', typeflag: '0' }, Buffer.from('x')))),
    );
    expect(e.message).toMatch(/sparse/);
    expect(e.hint).toBeTruthy();
    expect(siblings()).toEqual(['outside', 'root']);
  });
});

describe('file names are bytes', () => {
  it('names, hardlink and symlink targets and PAX paths keep every byte', async () => {
    await unpackBuffers(
      rawTar(
        rawEntry({ name: bytes('col-\xfe'), typeflag: '0' }, Buffer.from('fe\n')),
        rawEntry({ name: bytes('col-\xfd'), typeflag: '0' }, Buffer.from('fd\n')),
        rawEntry({ name: 'hard', typeflag: '1', linkname: bytes('col-\xfd') }),
        rawEntry({ name: 'sym', typeflag: '2', linkname: bytes('tgt-\xff\x80') }),
        paxEntry([['path', bytes('pax-\xe9\xff')], ['linkpath', bytes('col-\xfe')]], { name: 'x', typeflag: '1' }),
        rawEntry({ name: bytes('caf\xc3\xa9'), typeflag: '0' }, Buffer.from('utf8\n')), // é as UTF-8 bytes
      ),
    );
    expect(names()).toEqual(['caf\xc3\xa9', 'col-\xfd', 'col-\xfe', 'hard', 'pax-\xe9\xff', 'sym'].sort());
    const at = (n: string): Buffer => Buffer.concat([Buffer.from(`${box.dir}/`), bytes(n)]);
    expect(fs.readFileSync(at('col-\xfe'), 'utf8')).toBe('fe\n');
    expect(fs.readFileSync(at('col-\xfd'), 'utf8')).toBe('fd\n');
    expect(fs.readFileSync(at('hard'), 'utf8')).toBe('fd\n');
    expect(fs.readFileSync(at('pax-\xe9\xff'), 'utf8')).toBe('fe\n');
    expect(fs.readlinkSync(at('sym'), { encoding: 'buffer' }).equals(bytes('tgt-\xff\x80'))).toBe(true);
    expect(fs.readFileSync(join(box.dir, 'café'), 'utf8')).toBe('utf8\n');
  });

  it('warnings and errors print names escaped: valid UTF-8 as is, other bytes as \\xNN', async () => {
    const r = await unpackBuffers(rawTar(rawEntry({ name: bytes('../caf\u00c3\u00a9-\xfe'), typeflag: '0' })));
    expect(r.warnings.join('\n')).toContain('"../café-\\xfe" names a path outside the root');
    const e = await failure(unpackBuffers(rawTar(rawEntry({ name: bytes('h-\xfe'), typeflag: '1', linkname: bytes('missing-\xff') }))));
    expect(e.message).toContain('entry "h-\\xfe"');
    expect(e.message).toContain('"missing-\\xff" does not exist');
  });

  it('binary xattr values are set byte for byte', async () => {
    const value = Buffer.from([0xff, 0x00, 0x80, 0x01, 0x0a]);
    await unpackBuffers(rawTar(paxEntry([['SCHILY.xattr.user.bin', value]], { name: bytes('x-\xfe'), typeflag: '0' }, Buffer.from('x'))));
    // getfattr takes names from argv (UTF-8 only): read it through a plain-named hardlink.
    fs.linkSync(Buffer.concat([Buffer.from(`${box.dir}/`), bytes('x-\xfe')]), join(box.dir, 'plain'));
    const got = await execa('getfattr', ['--only-values', '-n', 'user.bin', 'plain'], { cwd: box.dir, encoding: 'buffer', stripFinalNewline: false });
    expect(Buffer.from(got.stdout).toString('hex')).toBe(value.toString('hex'));
  });

  it('artifact layers skip names that are not UTF-8 instead of writing another name', async () => {
    const tar = rawTar(rawEntry({ name: bytes('k-\xfe.img'), typeflag: '0' }, Buffer.from('bad')), rawEntry({ name: 'k.img', typeflag: '0' }, Buffer.from('good')));
    const sink = await createArtifactSink({ outDir: box.dir, label: 'artifact' });
    const stats = await extractArtifactLayer({ blob: Readable.from([tar]), mediaType: TAR, sink, label: 'artifact' });
    await sink.finish();
    expect(stats).toMatchObject({ files: 1, skipped: { 'unsafe-name': 1 } });
    expect(fs.readdirSync(box.dir)).toEqual(['k.img']);
  });
});

describe('whiteouts', () => {
  it('an opaque marker in a symlinked directory empties the directory the link resolves to', async () => {
    await unpackImage({
      dir: box.dir,
      layers: [
        layerOf(await tarOf([{ path: 'real/', type: 'dir' }, { path: 'real/lower', type: 'file', content: 'l' }, { path: 'link', type: 'symlink', linkname: '/real' }]), TAR),
        layerOf(await tarOf([{ path: 'link/.wh..wh..opq', type: 'file', content: '' }, { path: 'link/upper', type: 'file', content: 'u' }]), TAR),
      ],
    });
    expect(names(join(box.dir, 'real'))).toEqual(['upper']);
    expect(fs.readlinkSync(join(box.dir, 'link'))).toBe('/real');
  });

  it('removing N directories by whiteouts takes time proportional to N', { timeout: 180_000 }, async () => {
    async function run(n: number): Promise<number> {
      const dirs: Buffer[] = [];
      const whs: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        dirs.push(rawHeader({ name: `d${i}/`, typeflag: '5' }));
        whs.push(rawHeader({ name: `.wh.d${i}`, typeflag: '0' }));
      }
      const t0 = performance.now();
      const target = join(box.sb.base, `many-${n}`);
      const r = await unpackImage({ dir: target, layers: [layerOf(rawTar(...dirs), TAR), layerOf(rawTar(...whs), TAR)] });
      const t = performance.now() - t0;
      expect(r.whiteouts).toBe(n);
      expect(fs.readdirSync(target)).toEqual([]);
      await fsp.rm(target, { recursive: true });
      return t;
    }
    await run(1000); // warm up
    const small = await run(5000);
    const large = await run(40_000);
    // Linear: ×8 (plus noise); quadratic was ×64 (10k 2.9 s, 40k 22.8 s, 80k 70 s before).
    expect(large / small).toBeLessThan(24);
  });
});

describe('PAX records', () => {
  it('global records apply to every following entry, with or without a local header', async () => {
    await unpackBuffers(
      rawTar(
        paxGlobal({ mtime: '1500000000' }),
        rawEntry({ name: 'plain', typeflag: '0' }),
        paxEntry({ path: 'local' }, { name: 'x', typeflag: '0' }),
        paxEntry({ mtime: '1400000000' }, { name: 'own', typeflag: '0' }),
      ),
    );
    expect(fs.statSync(join(box.dir, 'plain')).mtimeMs).toBe(1500000000_000);
    expect(fs.statSync(join(box.dir, 'local')).mtimeMs).toBe(1500000000_000);
    expect(fs.statSync(join(box.dir, 'own')).mtimeMs).toBe(1400000000_000);
  });

  it('a malformed record is refused with a clear error (GNU tar reports it and fails too)', async () => {
    const bad = Buffer.from('33 path=PAX1/PAX1/long-path-name\u0000'); // no newline
    const e = await failure(unpackBuffers(rawTar(rawEntry({ name: 'PaxHeader', typeflag: 'x' }, bad), rawEntry({ name: 'foo', typeflag: '0' }))));
    expect(e.code).toBe('UNPACK_LAYER_CORRUPT');
    expect(e.message).toMatch(/malformed PAX/);
    expect(e.hint).toBeTruthy();
    expect(siblings()).toEqual(['outside', 'root']);
  });

  it('a NUL in an xattr name is named as such', async () => {
    const e = await failure(unpackBuffers(rawTar(paxEntry({ 'SCHILY.xattr.null\u0000': 'fizzbuzz' }, { name: 'bad-null.txt', typeflag: '0' }))));
    expect(e.message).toMatch(/NUL/);
    expect(e.message).not.toMatch(/not a valid tar stream/);
    expect(e.hint).toBeTruthy();
  });

  it('an empty extended header changes nothing', async () => {
    await unpackBuffers(rawTar(rawEntry({ name: 'PaxHeader', typeflag: 'x' }), rawEntry({ name: 'plain', typeflag: '0' }, Buffer.from('p'))));
    expect(fs.readFileSync(join(box.dir, 'plain'), 'utf8')).toBe('p');
  });

  it('a bad numeric value is ignored with a warning', async () => {
    const r = await unpackBuffers(rawTar(paxEntry({ mtime: '999xxx9324.432432444444' }, { name: 'foo', typeflag: '0', mtime: 1000 })));
    expect(fs.statSync(join(box.dir, 'foo')).mtimeMs).toBe(1000_000);
    expect(r.warnings.join('\n')).toMatch(/mtime/);
  });
});

describe('errors and warnings name the problem and the fix', () => {
  it('a symlink loop has a hint', async () => {
    const e = await failure(unpackImage({ dir: box.dir, layers: [layerOf(await tarOf([{ path: 'l1', type: 'symlink', linkname: 'l2' }, { path: 'l2', type: 'symlink', linkname: 'l1' }, { path: 'l1/x', type: 'file', content: 'x', raw: true } as Entry]), TAR)] }));
    expect(e.code).toBe('UNPACK_SYMLINK_LOOP');
    expect(e.hint).toBeTruthy();
  });

  it('out-of-range owners and times are clamped with a warning', async () => {
    const r = await unpackImage({
      dir: box.dir,
      preserveOwners: isRoot,
      layers: [layerOf(rawTar(paxEntry({ uid: '99999999999', gid: '-5', mtime: '99999999999999999999' }, { name: 'f', typeflag: '0' }, Buffer.from('f'))), TAR)],
    });
    expect(fs.readFileSync(join(box.dir, 'f'), 'utf8')).toBe('f');
    expect(r.warnings.join('\n')).toMatch(/mtime/);
    if (isRoot) {
      expect(r.warnings.join('\n')).toMatch(/uid/);
      expect(fs.statSync(join(box.dir, 'f')).uid).toBe(4294967294);
      expect(fs.statSync(join(box.dir, 'f')).gid).toBe(0);
    }
  });

  it('a name too long for the filesystem is an entry error with a hint, quoting at most 200 characters of it', async () => {
    const long = `${'a'.repeat(300)}/f`;
    const e = await failure(unpackBuffers(rawTar(paxEntry({ path: long }, { name: 'x', typeflag: '0' }))));
    expect(e.code).toBe('UNPACK_BAD_ENTRY');
    expect(e.message).toMatch(/too long/);
    expect(e.hint).toBeTruthy();
    const huge = `${'b/'.repeat(500_000)}f`;
    const e2 = await failure(unpackBuffers(rawTar(paxEntry({ path: huge }, { name: 'x', typeflag: '0' }))));
    expect(e2.message.length).toBeLessThan(600);
    expect(e2.message).toContain('…');
    expect(siblings()).toEqual(['outside', 'root']);
  });
});

describe('truncation', () => {
  it('a header cut short is an error, not an end', async () => {
    const tar = rawTar(rawEntry({ name: 'a', typeflag: '0' }, Buffer.from('a')));
    const e = await failure(unpackBuffers(Buffer.concat([tar.subarray(0, BLOCK * 2), rawHeader({ name: 'b', typeflag: '0', size: 10 }).subarray(0, 300)])));
    expect(e.code).toBe('UNPACK_LAYER_CORRUPT');
  });
});

export type { LayerInput };
