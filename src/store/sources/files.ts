/**
 * Files an image source reads, behind one small view: a directory (an OCI layout) or the members
 * of a tar file (oci-archive, docker-archive). A tar FILE is indexed by seeking from header to
 * header — only the 512-byte headers are read, never the members' data — so any member opens as a
 * byte range of the file, in any order, and a 5 GB archive costs a few KB to open. A compressed
 * archive or a stream (gzip'd `docker save`, the engine's save stream) cannot be seeked: it is
 * decompressed once into a spool file beside the cache, which is then indexed the same way
 * (docker and skopeo write manifest.json and index.json *last*, so a one-pass reader would have
 * to hold every layer somewhere anyway; the spool is that somewhere, removed on close).
 *
 * Headers are decoded by src/unpack's one tar header decoder (tar-header.ts); this module only
 * walks from header to header by seeking (no package indexes a tar without reading it through:
 * tar-stream and node-tar parse streams) and keeps what locates a member: GNU long names, PAX
 * path and size, links.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KairosImgError, isErrnoError, fsFailure, usageError } from '../../errors.js';
import { BLOCK, decodeHeader, detectFormat, isHeaderOnly, isZeroBlock, layerToTarStream, parsePaxRecords, type HeaderBlock } from '../../unpack/index.js';
import { TEMP_PREFIX } from '../layout.js';
import { tempName } from '../../temp-names.js';

export interface FileView {
  /** Names the directory or archive in messages. */
  readonly where: string;
  /** The size of a file (member), or undefined when there is none of that name. */
  size(name: string): Promise<number | undefined>;
  /** A small file whole; over `cap` bytes is an error. */
  read(name: string, cap: number): Promise<Buffer>;
  /** The first `n` bytes (or fewer) of a file. */
  head(name: string, n: number): Promise<Buffer>;
  /** A file as a stream. */
  open(name: string): Readable;
  /** The names there (top-level for a directory, every member for an archive), for messages. */
  names(): Promise<string[]>;
  close(): Promise<void>;
}

const MAX_LINK_HOPS = 8;
const MAX_META = 1024 * 1024;

/** Names as archives write them (`./x`, `/x`, `a//b`) → one form. */
export function normalizeMemberName(name: string): string {
  const n = path.posix.normalize(name.replace(/^(?:\.\/|\/)+/, ''));
  return n === '.' ? '' : n.replace(/\/+$/, '');
}

function missing(where: string, name: string): KairosImgError {
  return new KairosImgError('ARCHIVE_CORRUPT', `${where} has no ${name}`, { details: { file: name } });
}

function tooLarge(where: string, name: string, size: number, cap: number): KairosImgError {
  return new KairosImgError('BLOB_TOO_LARGE', `${name} in ${where} is ${size} bytes, over the ${cap}-byte limit`, { details: { file: name } });
}

// ── directories ───────────────────────────────────────────────────────────────────────────────

/** A directory; names are relative and never leave it (`..` and absolute names are refused). */
export function directoryView(root: string): FileView {
  const resolve = (name: string): string => {
    const n = normalizeMemberName(name);
    if (n === '' || n.split('/').includes('..') || path.isAbsolute(name)) throw missing(root, name);
    return path.join(root, n);
  };
  const size = async (name: string): Promise<number | undefined> => {
    try {
      const st = await stat(resolve(name));
      return st.isFile() ? st.size : undefined;
    } catch (e) {
      if (isErrnoError(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return undefined;
      throw isErrnoError(e) ? fsFailure(e, `reading ${name} in ${root}`, root) : e;
    }
  };
  const readRange = async (name: string, n: number | undefined, cap: number): Promise<Buffer> => {
    const total = await size(name);
    if (total === undefined) throw missing(root, name);
    if (n === undefined && total > cap) throw tooLarge(root, name, total, cap);
    const fh = await open(resolve(name), 'r');
    try {
      const want = Math.min(total, n ?? total);
      const buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  };
  return {
    where: root,
    size,
    read: (name, cap) => readRange(name, undefined, cap),
    head: (name, n) => readRange(name, n, n),
    open: (name) => createReadStream(resolve(name), { highWaterMark: 1024 * 1024 }),
    names: async () => (await readdir(root)).sort(),
    close: async () => undefined,
  };
}

// ── tar files ─────────────────────────────────────────────────────────────────────────────────

interface Member {
  offset: number;
  size: number;
  /** Hard or symbolic link: the archive name it points at (resolved relative to the link). */
  link?: string | undefined;
}

/** PAX records: only `path` and `size` matter for locating members. */
function paxFields(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  for (const r of parsePaxRecords(data)) {
    if (r.key === 'path') out.path = r.value.toString('utf8');
    const text = r.value.toString('latin1');
    if (r.key === 'size' && /^\d+$/.test(text)) out.size = Number(text);
  }
  return out;
}

/** What a file that is not a tar starts with, for the error. */
function describeStart(head: Buffer): string {
  if (head.length === 0) return 'it is empty';
  const text = head.subarray(0, 16).toString('latin1');
  if (/^[\x20-\x7e\t\r\n]+$/.test(text)) return `it starts with text "${text.replace(/\s+/g, ' ').trim()}…"`;
  return `it starts with the bytes ${head.subarray(0, 8).toString('hex')}`;
}

export function notAnArchive(where: string, problem: string): KairosImgError {
  return usageError('NOT_AN_ARCHIVE', `${where} is not a tar archive: ${problem}`,
    'name a file written by `docker save`, `skopeo copy … docker-archive:` or `oci-archive:` (plain, gzip or zstd); a layout directory is oci:DIR');
}

async function indexTar(fh: FileHandle, fileSize: number, where: string): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  const block = Buffer.alloc(BLOCK);
  let pos = 0;
  let longName: string | undefined;
  let pax: { path?: string; size?: number } = {};
  const readMeta = async (offset: number, size: number): Promise<Buffer> => {
    if (size > MAX_META) throw new KairosImgError('ARCHIVE_CORRUPT', `${where}: a tar metadata record of ${size} bytes at offset ${offset}`);
    const buf = Buffer.alloc(size);
    await fh.read(buf, 0, size, offset);
    return buf;
  };
  for (;;) {
    if (pos + BLOCK > fileSize) {
      if (pos === 0) throw notAnArchive(where, describeStart(await readMeta(0, Math.min(fileSize, 64))));
      break; // no end-of-archive blocks: GNU tar accepts that too
    }
    await fh.read(block, 0, BLOCK, pos);
    if (isZeroBlock(block)) {
      if (pos === 0) throw notAnArchive(where, 'it starts with a zero block (an empty archive)');
      break;
    }
    let header: HeaderBlock;
    try {
      header = decodeHeader(block);
    } catch (e) {
      if (pos === 0) throw notAnArchive(where, describeStart(Buffer.from(block)));
      throw new KairosImgError('ARCHIVE_CORRUPT', `${where}: the tar header at offset ${pos} is damaged (${(e as Error).message})`, { hint: 'the archive is truncated or corrupted; write it again' });
    }
    const type = header.typeflag;
    const name = header.name;
    const size = pax.size ?? header.size;
    if (!Number.isSafeInteger(size) || size < 0) throw new KairosImgError('ARCHIVE_CORRUPT', `${where}: the tar header at offset ${pos} has an invalid size`);
    const data = pos + BLOCK;
    const stored = isHeaderOnly(type) ? 0 : size;
    const next = data + Math.ceil(stored / BLOCK) * BLOCK;
    if (data + stored > fileSize) {
      throw new KairosImgError('ARCHIVE_CORRUPT', `${where} is truncated: ${name} needs ${stored} bytes at offset ${data}, the file has ${fileSize}`, { hint: 'the archive was cut short (an interrupted download or docker save); write it again' });
    }
    if (type === 'L') {
      longName = (await readMeta(data, size)).toString('utf8').replace(/\0+$/, '');
    } else if (type === 'x') {
      try {
        pax = paxFields(await readMeta(data, size));
      } catch (e) {
        throw new KairosImgError('ARCHIVE_CORRUPT', `${where}: the PAX header at offset ${pos} is damaged (${(e as Error).message})`);
      }
    } else if (type === 'K' || type === 'g') {
      // a long link name (targets of links we resolve are short) / PAX globals: nothing to locate
    } else {
      const full = normalizeMemberName(pax.path ?? longName ?? name);
      if (type === '0' || type === '\0' || type === '7') members.set(full, { offset: data, size });
      if (type === '1' || type === '2') {
        const linkname = header.linkname;
        const target = type === '1' ? normalizeMemberName(linkname) : normalizeMemberName(path.posix.join(path.posix.dirname(full), linkname));
        members.set(full, { offset: 0, size: 0, link: target });
      }
      longName = undefined;
      pax = {};
    }
    pos = next;
  }
  return members;
}

/** The members of a tar file, located by their headers alone (see the module comment). */
export async function tarFileView(file: string, where: string, onClose?: () => Promise<void>): Promise<FileView> {
  const fh = await open(file, 'r');
  let members: Map<string, Member>;
  try {
    members = await indexTar(fh, (await fh.stat()).size, where);
  } catch (e) {
    await fh.close();
    await onClose?.();
    throw e;
  }
  const find = (name: string): Member | undefined => {
    let m = members.get(normalizeMemberName(name));
    for (let hops = 0; m?.link !== undefined && hops < MAX_LINK_HOPS; hops++) m = members.get(m.link);
    return m?.link === undefined ? m : undefined;
  };
  const need = (name: string): Member => {
    const m = find(name);
    if (m === undefined) throw missing(where, name);
    return m;
  };
  const readAt = async (m: Member, n: number): Promise<Buffer> => {
    const buf = Buffer.alloc(Math.min(n, m.size));
    if (buf.length > 0) await fh.read(buf, 0, buf.length, m.offset);
    return buf;
  };
  let closed = false;
  return {
    where,
    size: async (name) => find(name)?.size,
    read: async (name, cap) => {
      const m = need(name);
      if (m.size > cap) throw tooLarge(where, name, m.size, cap);
      return readAt(m, m.size);
    },
    head: async (name, n) => readAt(need(name), n),
    open: (name) => {
      const m = need(name);
      // An empty member: createReadStream cannot express the empty range [offset, offset).
      if (m.size === 0) return createReadStream(file, { start: 1, end: 0 });
      return createReadStream(file, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1024 * 1024 });
    },
    names: async () => [...members.keys()].sort(),
    close: async () => {
      if (closed) return;
      closed = true;
      await fh.close();
      await onClose?.();
    },
  };
}

/**
 * A tar from a stream that cannot be seeked (a compressed archive, the engine's save stream),
 * written once into a spool file in `dir` (the cache: large, and swept of a dead run's spools)
 * and viewed from there; `close()` removes it.
 */
export async function spooledTarView(stream: Readable, opts: { dir: string; where: string; signal?: AbortSignal | undefined; decompress: boolean }): Promise<FileView> {
  const spool = path.join(opts.dir, tempName(TEMP_PREFIX, 'spool'));
  const remove = (): Promise<void> => rm(spool, { force: true });
  try {
    const plain = opts.decompress ? await layerToTarStream({ stream, mediaType: 'auto', signal: opts.signal, label: opts.where }) : stream;
    await pipeline(plain, createWriteStream(spool, { flags: 'wx', highWaterMark: 1024 * 1024 }), opts.signal ? { signal: opts.signal } : {});
  } catch (e) {
    await remove();
    if (isErrnoError(e) && e.code !== 'ABORT_ERR') throw fsFailure(e, `spooling ${opts.where}`, opts.dir);
    throw e;
  }
  return tarFileView(spool, opts.where, remove);
}

/**
 * An archive FILE as a view: a plain tar is indexed in place; gzip or zstd is decompressed into a
 * spool first. Missing files and directories are usage errors naming what was typed.
 */
export async function archiveView(file: string, opts: { where: string; spoolDir: string; signal?: AbortSignal | undefined }): Promise<FileView> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    if (isErrnoError(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) {
      throw usageError('SOURCE_NOT_FOUND', `${opts.where}: no such file ${file}`, 'check the path (it ends at the first colon)');
    }
    throw isErrnoError(e) ? fsFailure(e, `reading ${file}`, file) : e;
  }
  if (st.isDirectory()) throw notAnArchive(opts.where, `${file} is a directory (an OCI layout directory is oci:${file})`);
  const fh = await open(file, 'r');
  const head = Buffer.alloc(6);
  try {
    await fh.read(head, 0, 6, 0);
  } finally {
    await fh.close();
  }
  const format = st.size >= 6 ? detectFormat(head) : 'none';
  if (format === 'xz' || format === 'bzip2') throw notAnArchive(opts.where, `it is ${format}-compressed; decompress it first (${format === 'xz' ? 'xz -d' : 'bunzip2'} ${file})`);
  if (format === 'gzip' || format === 'zstd') {
    return spooledTarView(createReadStream(file, { highWaterMark: 1024 * 1024 }), { dir: opts.spoolDir, where: opts.where, signal: opts.signal, decompress: true });
  }
  return tarFileView(file, opts.where);
}
