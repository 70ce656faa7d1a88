// Go's archive/tar test corpus (Debian's golang-1.19-src, installed by scripts/test-env.sh), each
// tar unpacked as a layer and by GNU tar (`tar --numeric-owner --xattrs -xf`): the trees must be
// the same — names as bytes, types, modes, owners, sizes, content (sparse holes as content), link
// targets, hardlink groups, device numbers, xattrs; mtimes aside — or, where GNU tar fails, the
// unpack fails too, with a clear error and nothing left behind. The few deliberate differences are
// listed in DIFFERENT with the reason.
import { isUtf8 } from 'node:buffer';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KairosImgError } from '../../src/errors.js';
import { unpackImage } from '../../src/unpack/index.js';
import { layerOf } from '../helpers/layers.js';

const CORPUS = '/usr/share/go-1.19/src/archive/tar/testdata';
const TAR = 'application/vnd.oci.image.layer.v1.tar';
/** e2fsprogs' FIEMAP reader, for the 60 GB sparse files (reading their holes takes minutes). */
const FILEFRAG = fs.existsSync('/usr/sbin/filefrag') ? '/usr/sbin/filefrag' : 'filefrag';

/** sparse-formats.tar's four sparse files: 95 one-byte regions "GoGo…Go!" at odd offsets in 200 bytes. */
function goSparseContent(): Buffer {
  const out = Buffer.alloc(200);
  const data = `${'Go'.repeat(47)}!`;
  for (let i = 0; i < data.length; i++) out[1 + 2 * i] = data.charCodeAt(i);
  return out;
}

type Expected =
  | { kind: 'error'; code: string; why: string }
  | { kind: 'tree'; check: (dir: string) => void; why: string };

/** Where this unpack differs from GNU tar 1.34 on purpose. */
const DIFFERENT: Record<string, Expected> = {
  'pax-nul-path.tar': {
    kind: 'error',
    code: 'UNPACK_BAD_ENTRY',
    why: 'a NUL byte inside a PAX path is refused (GNU tar cuts the name there); a name that means one thing to the archive and another to the kernel is an attack pattern',
  },
  'sparse-formats.tar': {
    kind: 'tree',
    why: 'GNU tar 1.34 reads one 512-byte block per sparse region, which contradicts the size field when regions are not block multiples (here 95 one-byte regions) and fails; this reader follows the size field, as Go does',
    check: (dir) => {
      const expected = goSparseContent();
      for (const n of ['sparse-gnu', 'sparse-posix-0.0', 'sparse-posix-0.1', 'sparse-posix-1.0']) {
        expect(fs.readFileSync(join(dir, n)).equals(expected), n).toBe(true);
      }
      expect(fs.readFileSync(join(dir, 'end'), 'utf8')).toBe('end\n');
      expect(fs.readdirSync(dir).sort()).toEqual(['end', 'sparse-gnu', 'sparse-posix-0.0', 'sparse-posix-0.1', 'sparse-posix-1.0']);
    },
  },
  'pax-global-records.tar': {
    kind: 'tree',
    why: 'POSIX: a global record with an empty value deletes the earlier global value (so file3 keeps its name); GNU tar 1.34 applies the empty path instead and fails',
    check: (dir) => {
      expect(fs.readdirSync(dir).sort()).toEqual(['file2', 'file3', 'file4', 'global1']);
      expect(fs.statSync(join(dir, 'global1')).mtimeMs).toBe(1500000000_000);
      expect(fs.statSync(join(dir, 'file3')).mtimeMs).toBe(1500000000_000);
      expect(fs.statSync(join(dir, 'file4')).mtimeMs).toBe(1400000000_000);
    },
  },
};

interface Node {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  rdev: number;
  target?: string;
  link?: number;
  xattrs: string;
}

/** The tree as comparable facts, names as bytes (latin1); file content compared separately. */
function snapshot(root: string): Map<string, Node> {
  const out = new Map<string, Node>();
  const inodes = new Map<number, number>();
  const walk = (rel: Buffer): void => {
    const abs = rel.length === 0 ? Buffer.from(root) : Buffer.concat([Buffer.from(`${root}/`), rel]);
    for (const name of fs.readdirSync(abs, { encoding: 'buffer' }).sort(Buffer.compare)) {
      const r = rel.length === 0 ? name : Buffer.concat([rel, Buffer.from('/'), name]);
      const p = Buffer.concat([Buffer.from(`${root}/`), r]);
      const st = fs.lstatSync(p);
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isFIFO() ? 'fifo' : 'other';
      const node: Node = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: type === 'file' ? st.size : 0, rdev: st.rdev, xattrs: xattrsOf(p) };
      if (type === 'symlink') node.target = fs.readlinkSync(p, { encoding: 'buffer' }).toString('latin1');
      if (type === 'symlink') node.mode = 0;
      if (type === 'file' && st.nlink > 1) {
        if (!inodes.has(st.ino)) inodes.set(st.ino, inodes.size);
        node.link = inodes.get(st.ino) as number;
      }
      out.set(r.toString('latin1'), node);
      if (type === 'dir') walk(r);
    }
  };
  walk(Buffer.alloc(0));
  return out;
}

/** A host path as program argument text (argv is UTF-8): a hardlink alias for a file whose name is not. */
function asArg<T>(p: Buffer, run: (arg: string) => T): T {
  if (isUtf8(p)) return run(p.toString('utf8'));
  if (!fs.lstatSync(p).isFile()) throw new Error(`test limitation: non-UTF-8 name of a non-file ${p.toString('latin1')}`);
  const alias = join(work, `alias-${process.pid}`);
  fs.linkSync(p, alias);
  try {
    return run(alias);
  } finally {
    fs.unlinkSync(alias);
  }
}

/** `getfattr -h -d -m - -e hex` of one path: every extended attribute, values in hex. */
function xattrsOf(p: Buffer): string {
  return asArg(p, (arg) => {
    const r = spawnSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', arg], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`getfattr failed: ${r.stderr}`);
    return r.stdout.split('\n').slice(1).sort().join('\n').trim();
  });
}

/** Data extents of a file from FIEMAP (`filefrag`), as [start, end) byte ranges. */
function extents(p: Buffer): Array<[number, number]> {
  const out = asArg(p, (arg) => execFileSync(FILEFRAG, ['-v', '-e', arg], { encoding: 'utf8' }));
  const bs = Number(/blocks of (\d+) bytes/.exec(out)?.[1] ?? 4096);
  const ranges: Array<[number, number]> = [];
  for (const m of out.matchAll(/^\s*\d+:\s+(\d+)\.\.\s*(\d+):/gm)) ranges.push([Number(m[1]) * bs, (Number(m[2]) + 1) * bs]);
  return ranges;
}

/** Content equality with holes read as zeros; big files compare only where either has data. */
function sameContent(a: Buffer, b: Buffer, size: number): boolean {
  const fa = fs.openSync(a, 'r');
  const fb = fs.openSync(b, 'r');
  try {
    const ranges: Array<[number, number]> = size <= 64 * 1024 * 1024 ? [[0, size]] : [...extents(a), ...extents(b)];
    const ba = Buffer.alloc(1024 * 1024);
    const bb = Buffer.alloc(1024 * 1024);
    for (const [start, end] of ranges) {
      for (let pos = start; pos < Math.min(end, size); pos += ba.length) {
        const n = Math.min(ba.length, Math.min(end, size) - pos);
        fs.readSync(fa, ba, 0, n, pos);
        fs.readSync(fb, bb, 0, n, pos);
        if (!ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
      }
    }
    return true;
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

let work: string;
const tars = fs.existsSync(CORPUS)
  ? fs.readdirSync(CORPUS).filter((n) => n.endsWith('.tar') || n.endsWith('.tar.bz2')).sort()
  : [];

beforeAll(async () => {
  work = await fsp.mkdtemp(join(tmpdir(), 'kimg-tar-corpus-'));
});
afterAll(async () => {
  await fsp.rm(work, { recursive: true, force: true });
});

describe("Go's archive/tar corpus against GNU tar", () => {
  it('the corpus is installed (golang-1.19-src) with its tars', () => {
    expect(tars.length).toBeGreaterThan(40);
  });

  it.each(tars)('%s', { timeout: 300_000 }, async (name) => {
    const base = join(work, name);
    await fsp.mkdir(base);
    let tarFile = join(CORPUS, name);
    if (name.endsWith('.bz2')) {
      tarFile = join(base, name.slice(0, -4));
      fs.writeFileSync(tarFile, execFileSync('bzip2', ['-dc', join(CORPUS, name)], { maxBuffer: 64 * 1024 * 1024 }));
    }
    const gnu = join(base, 'gnu');
    await fsp.mkdir(gnu);
    const gnuRun = spawnSync('tar', ['--numeric-owner', '--xattrs', '-xf', tarFile, '-C', gnu], { encoding: 'utf8' });
    const ours = join(base, 'ours');
    const blob = fs.readFileSync(tarFile);
    const result = await unpackImage({ dir: ours, layers: [layerOf(blob, TAR)] }).then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    const expected: Expected = DIFFERENT[name] ?? (gnuRun.status === 0 ? { kind: 'tree', check: () => undefined, why: 'same as GNU tar' } : { kind: 'error', code: '', why: `GNU tar fails: ${gnuRun.stderr.trim()}` });

    if (expected.kind === 'error') {
      expect(result.ok, `${name}: ${expected.why}`).toBe(false);
      const e = (result as { e: unknown }).e;
      expect(e).toBeInstanceOf(KairosImgError);
      const k = e as KairosImgError;
      if (expected.code !== '') expect(k.code).toBe(expected.code);
      expect(k.hint, `${name}: ${k.message}`).toBeTruthy();
      expect(k.message.length).toBeLessThan(600);
      expect(fs.readdirSync(base).sort()).toEqual(name.endsWith('.bz2') ? ['gnu', name.slice(0, -4)] : ['gnu']);
      return;
    }
    if (!result.ok) throw (result as { e: unknown }).e;
    if (DIFFERENT[name] !== undefined) {
      expected.check(ours);
      return;
    }
    expect(gnuRun.status, gnuRun.stderr).toBe(0);
    const a = snapshot(gnu);
    const b = snapshot(ours);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [p, node] of a) {
      expect(b.get(p), p).toEqual(node);
      if (node.type === 'file') {
        const pa = Buffer.concat([Buffer.from(`${gnu}/`), Buffer.from(p, 'latin1')]);
        const pb = Buffer.concat([Buffer.from(`${ours}/`), Buffer.from(p, 'latin1')]);
        expect(sameContent(pa, pb, node.size), `content of ${p}`).toBe(true);
        // Holes stay holes: no more allocated than GNU tar's copy (plus a block of slack).
        expect(fs.statSync(pb).blocks, `allocation of ${p}`).toBeLessThanOrEqual(fs.statSync(pa).blocks + 8);
      }
    }
    await fsp.rm(base, { recursive: true, force: true });
  });
});
