// Crafted layers and tree snapshots for the unpack tests. Well-formed entries come from the fixture
// builder (tar-stream); headers tar-stream refuses to write (NUL bytes, GNU long names with `..`,
// hand-set typeflags) are encoded here byte by byte.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterEach, beforeEach } from 'vitest';
import { tarOf, type Entry } from '../../scripts/fixtures/image-builder.mjs';
import type { LayerInput } from '../../src/unpack/index.js';

export { tarOf, type Entry };

export const BLOCK = 512;

export interface RawHeader {
  name: string | Buffer;
  /** Typeflag character: '0' file, '1' hardlink, '2' symlink, '5' dir, 'L' GNU long name, 'K' GNU long link, 'x' PAX. */
  typeflag: string;
  size?: number;
  mode?: number;
  linkname?: string | Buffer;
  mtime?: number;
  uid?: number;
  gid?: number;
  /** 'ustar' (POSIX, the default) or 'gnu' (`ustar  \0`, as GNU tar writes). */
  magic?: 'ustar' | 'gnu';
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header block with a correct checksum, fields written exactly as given. */
export function rawHeader(h: RawHeader): Buffer {
  const buf = Buffer.alloc(BLOCK);
  (typeof h.name === 'string' ? Buffer.from(h.name, 'utf8') : h.name).copy(buf, 0, 0, 100);
  buf.write(octal(h.mode ?? 0o644, 8), 100, 'ascii');
  buf.write(octal(h.uid ?? 0, 8), 108, 'ascii');
  buf.write(octal(h.gid ?? 0, 8), 116, 'ascii');
  buf.write(octal(h.size ?? 0, 12), 124, 'ascii');
  buf.write(octal(h.mtime ?? 1672531200, 12), 136, 'ascii');
  buf.write('        ', 148, 'ascii');
  buf.write(h.typeflag, 156, 'ascii');
  if (h.linkname !== undefined) (typeof h.linkname === 'string' ? Buffer.from(h.linkname, 'utf8') : h.linkname).copy(buf, 157, 0, 100);
  buf.write(h.magic === 'gnu' ? 'ustar  \u0000' : 'ustar\u000000', 257, 'binary');
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return buf;
}

function padded(body: Buffer): Buffer {
  const rest = body.length % BLOCK;
  return rest === 0 ? body : Buffer.concat([body, Buffer.alloc(BLOCK - rest)]);
}

/** A raw entry: header plus padded body. */
export function rawEntry(h: RawHeader, body: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([rawHeader({ ...h, size: body.length }), padded(body)]);
}

/** A GNU long-name ('L') record followed by the entry it names. */
export function gnuLongName(name: string, entry: RawHeader, body: Buffer = Buffer.alloc(0)): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  return Buffer.concat([rawEntry({ name: '././@LongLink', typeflag: 'L' }, nameBytes), rawEntry({ ...entry, name: 'x' }, body)]);
}

/** PAX records (`<len> <key>=<value>\n`), values as bytes when given as Buffers; in order, repeats allowed. */
export function paxRecords(records: Record<string, string | Buffer> | Array<[string, string | Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Array.isArray(records) ? records : Object.entries(records)) {
    const line = Buffer.concat([Buffer.from(` ${k}=`, 'utf8'), typeof v === 'string' ? Buffer.from(v, 'utf8') : v, Buffer.from('\n')]);
    let len = line.length + 1;
    while (String(len).length + line.length !== len) len = String(len).length + line.length;
    parts.push(Buffer.from(String(len)), line);
  }
  return Buffer.concat(parts);
}

/** A PAX ('x') record followed by the entry it describes. */
export function paxEntry(records: Record<string, string | Buffer> | Array<[string, string | Buffer]>, entry: RawHeader, body: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([rawEntry({ name: 'PaxHeader', typeflag: 'x' }, paxRecords(records)), rawEntry(entry, body)]);
}

/** A PAX global ('g') header: its records apply to every entry after it. */
export function paxGlobal(records: Record<string, string | Buffer>): Buffer {
  return rawEntry({ name: 'GlobalHead', typeflag: 'g' }, paxRecords(records));
}

/** A header whose size field says `size` but that is followed by no data (a header-only entry). */
export function headerOnly(h: RawHeader & { size: number }): Buffer {
  return rawHeader(h);
}

/** Raw entries joined into a complete archive (two zero blocks at the end). */
export function rawTar(...parts: Buffer[]): Buffer {
  return Buffer.concat([...parts, Buffer.alloc(BLOCK * 2)]);
}

export function gzip(buf: Buffer): Buffer {
  return gzipSync(buf);
}

export async function zstd(buf: Buffer): Promise<Buffer> {
  const r = await execa('zstd', ['-q', '-c', '-3'], { input: buf, encoding: 'buffer' });
  return Buffer.from(r.stdout);
}

export function streamOf(buf: Buffer, chunk = 7 * 1024): Readable {
  // Odd-sized chunks so header and body boundaries fall mid-chunk.
  return Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
    })(),
  );
}

export function layerOf(buf: Buffer, mediaType: string, digest = `sha256:${createHash('sha256').update(buf).digest('hex')}`): LayerInput {
  return { digest, size: buf.length, mediaType, open: async () => streamOf(buf) };
}

/** A scratch area: `root` (unpack target) and `outside` with a sentinel file, both under one temp dir. */
export interface Sandbox {
  base: string;
  root: string;
  outside: string;
  sentinel: string;
  /** Throws when the sentinel changed or anything appeared in `base` besides `root` and `outside`. */
  assertOutsideUntouched(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function sandbox(): Promise<Sandbox> {
  const base = await fsp.mkdtemp(join(tmpdir(), 'kimg-unpack-'));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await fsp.mkdir(root);
  await fsp.mkdir(outside);
  const sentinel = join(outside, 'sentinel');
  await fsp.writeFile(sentinel, 'do not touch\n', { mode: 0o644 });
  // Fixed times, so a write into the directory (which would update its mtime) is detectable.
  await fsp.utimes(outside, 1_000_000, 1_000_000);
  const before = await fsp.stat(sentinel);
  const outsideBefore = await fsp.stat(outside);
  return {
    base,
    root,
    outside,
    sentinel,
    async assertOutsideUntouched() {
      const names = (await fsp.readdir(base)).sort();
      if (names.join(',') !== 'outside,root') throw new Error(`unexpected entries next to the root: ${names.join(',')}`);
      const inOutside = await fsp.readdir(outside);
      if (inOutside.join(',') !== 'sentinel') throw new Error(`unexpected entries outside: ${inOutside.join(',')}`);
      const after = await fsp.lstat(sentinel);
      const content = await fsp.readFile(sentinel, 'utf8');
      if (!after.isFile() || content !== 'do not touch\n' || (after.mode & 0o7777) !== 0o644 || after.mtimeMs !== before.mtimeMs || after.nlink !== 1) {
        throw new Error('the sentinel outside the root was modified');
      }
      const o = await fsp.lstat(outside);
      if (!o.isDirectory() || o.mode !== outsideBefore.mode || o.mtimeMs !== outsideBefore.mtimeMs || o.uid !== outsideBefore.uid) {
        throw new Error('the directory outside the root was modified');
      }
    },
    cleanup: () => fsp.rm(base, { recursive: true, force: true }),
  };
}

/** A fresh sandbox for every test of the file, with `dir` (`<base>/target`) as the unpack target. */
export function sandboxEachTest(): { readonly sb: Sandbox; readonly dir: string } {
  let current: Sandbox | undefined;
  beforeEach(async () => {
    current = await sandbox();
  });
  afterEach(async () => {
    await current?.cleanup();
  });
  const get = (): Sandbox => {
    if (current === undefined) throw new Error('sandboxEachTest: used outside a test');
    return current;
  };
  return {
    get sb() {
      return get();
    },
    get dir() {
      return join(get().base, 'target');
    },
  };
}

export interface TreeNode {
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'other';
  mode: number;
  size: number;
  sha256?: string;
  target?: string;
  /** Index of the inode group among files (same number = same inode), stable across trees. */
  inodeGroup?: number;
}

/** Every path under `root` (root-relative, sorted) with type, mode, size, content hash, link target, inode group. */
export async function snapshotTree(root: string): Promise<Map<string, TreeNode>> {
  const out = new Map<string, TreeNode>();
  const inodes = new Map<number, number>();
  const walk = async (rel: string): Promise<void> => {
    const names = (await fsp.readdir(join(root, rel))).sort();
    for (const name of names) {
      const p = rel === '' ? name : `${rel}/${name}`;
      const abs = join(root, p);
      const st = await fsp.lstat(abs);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        out.set(p, { type: 'dir', mode, size: 0 });
        await walk(p);
      } else if (st.isSymbolicLink()) {
        out.set(p, { type: 'symlink', mode: 0, size: 0, target: await fsp.readlink(abs) });
      } else if (st.isFile()) {
        const sha256 = createHash('sha256').update(await fsp.readFile(abs)).digest('hex');
        const node: TreeNode = { type: 'file', mode, size: st.size, sha256 };
        if (st.nlink > 1) {
          if (!inodes.has(st.ino)) inodes.set(st.ino, inodes.size);
          node.inodeGroup = inodes.get(st.ino) as number;
        }
        out.set(p, node);
      } else {
        const type = st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isFIFO() ? 'fifo' : 'other';
        out.set(p, { type, mode, size: 0 });
      }
    }
  };
  await walk('');
  return out;
}

/** Inode groups renumbered by first path (sorted), so two trees compare regardless of walk order. */
export function normalizeInodeGroups(tree: Map<string, TreeNode>): Map<string, TreeNode> {
  const renum = new Map<number, number>();
  const out = new Map<string, TreeNode>();
  for (const [p, n] of [...tree].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (n.inodeGroup === undefined) out.set(p, n);
    else {
      if (!renum.has(n.inodeGroup)) renum.set(n.inodeGroup, renum.size);
      out.set(p, { ...n, inodeGroup: renum.get(n.inodeGroup) as number });
    }
  }
  return out;
}

export function existsNoFollow(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
