/**
 * The one tar walk: a layer blob (or any tar stream) → decompression (decompress.ts) → the tar
 * reader below → one normalized entry at a time, handed to the caller's `onEntry`. The caller
 * answers with a body sink for the entry's content, or nothing (the content is then skipped);
 * errors are wrapped here once, the same way for every reader (unpack, image file reads, artifact
 * layers).
 *
 * A streaming reader of its own (headers decoded by tar-header.ts; why not tar-stream is said
 * there). It sits on the hot path of a 64k-entry unpack, so it pushes content into the sink
 * instead of handing out a stream per entry, takes the decompressor's chunks as they come (no
 * copies but for a header split across two chunks), and only awaits when it needs bytes that have
 * not arrived or a sink returns a promise: a synchronous sink (the unpack's file writes) costs no
 * promise round trip per entry. GNU tar's rules: header-only types ignore their size; the first
 * zero block ends the archive; PAX global records apply to every later entry; GNU long names,
 * PAX records and GNU sparse files (old GNU `S`, PAX 0.0, 0.1, 1.0) are decoded. What follows the
 * end of the archive is read (and ignored): a blob's digest is checked at its end.
 */
import type { Readable } from 'node:stream';
import { fsErrorCode, interrupted, isAbortError, KairosImgError, type ErrorCode } from '../errors.js';
import { asReadable, layerToTarStream, type ZstdDecoder } from './decompress.js';
import { displayName } from './entry-path.js';
import { entryMeta, type EntryKind, type EntryMeta } from './entry-semantics.js';
import { errnoOf } from './root-writer.js';
import {
  BLOCK,
  checkSparseMap,
  decodeHeader,
  entryKindOf,
  isHeaderOnly,
  isZeroBlock,
  oldGnuSparse,
  oldGnuSparseExtension,
  parsePaxRecords,
  paxSparseMap,
  sparseMap1x0,
  tarFormatError,
  typeflagName,
  type PaxRecord,
  type SparseRegion,
} from './tar-header.js';

export interface TarEntry {
  /** The name as the archive holds it (bytes as a latin1 string; not normalized). */
  readonly name: string;
  /** Link target (symlinks, hardlinks), bytes as latin1; '' when none. */
  readonly linkname: string;
  /** What the entry creates; undefined for a type with no filesystem meaning here. */
  readonly kind: EntryKind | undefined;
  /** The archive's typeflag, printable, for messages. */
  readonly type: string;
  /** The file's size (a sparse file's real size: holes included). */
  readonly size: number;
  /** True when only parts of the file are stored (holes are never passed to the body). */
  readonly sparse: boolean;
  readonly meta: EntryMeta;
  readonly devmajor: number;
  readonly devminor: number;
}

/** Receives one entry's content; a returned promise is awaited before more is pushed. */
export interface EntryBody {
  /** `chunk` holds the file's bytes at `offset` (a sparse file's offsets skip its holes). */
  write(chunk: Buffer, offset: number): void | Promise<void>;
  /** After the last chunk (also for empty content). */
  end(): void | Promise<void>;
  /** The walk failed before `end`: release what the body holds (an open file). */
  abort?(): void;
}

export type EntryHandler = (entry: TarEntry) => EntryBody | undefined | Promise<EntryBody | undefined>;

/** How a stream that is not a valid tar is reported (the code and kind of the caller's domain). */
export interface InvalidTarError {
  code: ErrorCode;
  hint: string;
}

export interface WalkTarOptions {
  /** A layer blob (compressed or not) or a plain tar stream. */
  stream: NodeJS.ReadableStream | Readable;
  /** A layer media type, or 'auto' (plain, gzip or zstd told by magic bytes). */
  mediaType: string;
  signal?: AbortSignal | undefined;
  /** Names the stream in errors. */
  label: string;
  zstd?: ZstdDecoder | undefined;
  /** Compressed bytes read so far, per chunk. */
  onBytes?: ((n: number) => void) | undefined;
  onEntry: EntryHandler;
  /** Values ignored or clamped (bad PAX numbers, out-of-range ids and times), a lone zero block. */
  warn?: ((kind: string, text: string) => void) | undefined;
  invalid?: InvalidTarError | undefined;
}

const DEFAULT_INVALID: InvalidTarError = {
  code: 'UNPACK_LAYER_CORRUPT',
  hint: 'the layer is not a valid tar stream; remove it from the cache and pull again',
};

/** PAX records and GNU long names larger than this are refused (tar-stream's and node-tar's limit too). */
const MAX_META = 4 * 1024 * 1024;
/** Decompressed bytes read ahead of the entry being handled. */
const QUEUE_HIGH = 8 * 1024 * 1024;
const QUEUE_LOW = 2 * 1024 * 1024;
const ZEROS = Buffer.alloc(1024 * 1024);

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

/**
 * The decompressed stream as a byte queue: chunks are kept as they arrive ('data' events, so no
 * concatenation), the stream is paused above QUEUE_HIGH and resumed below QUEUE_LOW.
 */
function byteQueue(stream: Readable, signal: AbortSignal | undefined) {
  const chunks: Array<Buffer | undefined> = [];
  let first = 0;
  let offset = 0;
  let buffered = 0;
  let ended = false;
  let paused = false;
  let failure: unknown;
  let waiter: (() => void) | undefined;
  const wake = (): void => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (buf.length === 0) return;
    chunks.push(buf);
    buffered += buf.length;
    if (buffered >= QUEUE_HIGH && !paused) {
      paused = true;
      stream.pause();
    }
    wake();
  };
  const onEnd = (): void => {
    ended = true;
    wake();
  };
  const onError = (e: unknown): void => {
    failure ??= e;
    wake();
  };
  const onClose = (): void => {
    if (!ended) failure ??= tarFormatError('the stream closed before its end');
    wake();
  };
  const onAbort = (): void => {
    failure ??= interrupted();
    wake();
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onError);
  stream.on('close', onClose);
  signal?.addEventListener('abort', onAbort, { once: true });

  const resume = (): void => {
    if (paused) {
      paused = false;
      stream.resume();
    }
  };
  const advance = (k: number): void => {
    offset += k;
    buffered -= k;
    const head = chunks[first] as Buffer;
    if (offset === head.length) {
      chunks[first] = undefined;
      first++;
      offset = 0;
      if (first >= 1024) {
        chunks.splice(0, first);
        first = 0;
      }
    }
    if (paused && buffered < QUEUE_LOW) resume();
  };

  return {
    get buffered(): number {
      return buffered;
    },
    /** Waits for more bytes; false when the stream ended. */
    async more(): Promise<boolean> {
      for (;;) {
        if (failure !== undefined) throw failure;
        if (ended) return false;
        const before = buffered;
        resume();
        await new Promise<void>((r) => {
          waiter = r;
        });
        if (failure !== undefined) throw failure;
        if (buffered > before) return true;
      }
    },
    /** Exactly `n` (≤ buffered) bytes; a view into the chunk unless they span two. */
    take(n: number): Buffer {
      if (n === 0) return Buffer.alloc(0);
      const head = chunks[first] as Buffer;
      if (head.length - offset >= n) {
        const out = head.subarray(offset, offset + n);
        advance(n);
        return out;
      }
      const out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = chunks[first] as Buffer;
        const k = Math.min(c.length - offset, n - filled);
        c.copy(out, filled, offset, offset + k);
        filled += k;
        advance(k);
      }
      return out;
    },
    /** Up to `max` bytes from the current chunk (buffered > 0), without copying. */
    takeSome(max: number): Buffer {
      const head = chunks[first] as Buffer;
      const k = Math.min(max, head.length - offset);
      const out = head.subarray(offset, offset + k);
      advance(k);
      return out;
    },
    skip(n: number): void {
      let left = n;
      while (left > 0) {
        const head = chunks[first] as Buffer;
        const k = Math.min(left, head.length - offset);
        advance(k);
        left -= k;
      }
    },
    close(): void {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      // Errors after this point have no reader; they must not become uncaught exceptions.
      stream.off('error', onError);
      stream.on('error', () => undefined);
      if (!ended) stream.destroy();
    },
  };
}

type ByteQueue = ReturnType<typeof byteQueue>;

async function fill(q: ByteQueue, n: number): Promise<boolean> {
  while (q.buffered < n) if (!(await q.more())) return false;
  return true;
}

function truncated(where: string): Error {
  return tarFormatError(`the tar stream ends in the middle of ${where}`);
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

async function skipBytes(q: ByteQueue, n: number, where: () => string): Promise<void> {
  let left = n;
  while (left > 0) {
    if (q.buffered === 0 && !(await q.more())) throw truncated(where());
    const k = Math.min(left, q.buffered);
    q.skip(k);
    left -= k;
  }
}

/** Whole meta content (PAX records, GNU long names), bounded by MAX_META, then its padding. */
async function readMeta(q: ByteQueue, size: number, what: string): Promise<Buffer> {
  if (size > MAX_META) throw tarFormatError(`${what} of ${size} bytes is larger than the ${MAX_META}-byte limit`);
  if (!(await fill(q, size))) throw truncated(what);
  const data = Buffer.from(q.take(size)); // copied: the chunk it came from is released
  await skipBytes(q, padding(size), () => what);
  return data;
}

/** Pushes `n` stored bytes to `write` at file offsets from `at` on (or skips them). */
async function pushData(q: ByteQueue, n: number, at: number, write: EntryBody['write'] | undefined, where: () => string): Promise<void> {
  if (write === undefined) return skipBytes(q, n, where);
  let left = n;
  let pos = at;
  while (left > 0) {
    if (q.buffered === 0 && !(await q.more())) throw truncated(where());
    const piece = q.takeSome(left);
    left -= piece.length;
    const r = write(piece, pos);
    pos += piece.length;
    if (r !== undefined) await r;
  }
}

function cutAtNul(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.toString('latin1', 0, nul < 0 ? data.length : nul);
}

const text = (b: Buffer | undefined): string | undefined => (b === undefined ? undefined : b.toString('latin1', 0, b.length));

type SparseSpec = { kind: 'map'; regions: SparseRegion[] } | { kind: 'map-in-data' };

/** GNU's PAX sparse formats, from the merged records (0.0's repeated keys from the ordered list). */
function paxSparse(pax: ReadonlyMap<string, Buffer>, local: readonly PaxRecord[]): { spec: SparseSpec; realSize: number; name: string | undefined } | undefined {
  const major = text(pax.get('GNU.sparse.major'));
  const minor = text(pax.get('GNU.sparse.minor'));
  const map = text(pax.get('GNU.sparse.map'));
  const pairs00 = local.filter((r) => r.key === 'GNU.sparse.offset' || r.key === 'GNU.sparse.numbytes');
  if (major === undefined && minor === undefined && map === undefined && pairs00.length === 0) return undefined;
  const version = `${major ?? '0'}.${minor ?? (map === undefined ? '0' : '1')}`;
  if (version !== '0.0' && version !== '0.1' && version !== '1.0') {
    throw tarFormatError(`GNU sparse format ${version} is not supported (known: 0.0, 0.1, 1.0)`);
  }
  const size = text(pax.get('GNU.sparse.realsize')) ?? text(pax.get('GNU.sparse.size'));
  if (size === undefined || !/^[0-9]+$/.test(size) || !Number.isSafeInteger(Number(size))) throw tarFormatError(`GNU sparse ${version} file without a valid real size`);
  const name = text(pax.get('GNU.sparse.name'));
  if (version === '1.0') return { spec: { kind: 'map-in-data' }, realSize: Number(size), name };
  let numbers: string[];
  if (map !== undefined) numbers = map === '' ? [] : map.split(',');
  else {
    // 0.0: offset, numbytes, offset, numbytes… in this order.
    numbers = [];
    pairs00.forEach((r, i) => {
      if ((i % 2 === 0) !== (r.key === 'GNU.sparse.offset')) throw tarFormatError('GNU sparse 0.0 offsets and sizes are out of order');
      numbers.push(text(r.value) as string);
    });
  }
  return { spec: { kind: 'map', regions: paxSparseMap(numbers, text(pax.get('GNU.sparse.numblocks'))) }, realSize: Number(size), name };
}

/** Pushes a sparse file's stored regions at their offsets; checks the data and the map agree. */
async function pushSparse(q: ByteQueue, regions: readonly SparseRegion[], stored: number, write: EntryBody['write'] | undefined, where: () => string): Promise<void> {
  const described = regions.reduce((a, r) => a + r.length, 0);
  if (described !== stored) throw tarFormatError(`${where()}: its sparse map describes ${described} bytes of data but ${stored} are stored`);
  for (const r of regions) await pushData(q, r.length, r.offset, write, where);
}

async function readEntries(q: ByteQueue, opts: WalkTarOptions): Promise<void> {
  const { signal } = opts;
  const globals = new Map<string, Buffer>();
  let local: PaxRecord[] = [];
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    if (q.buffered < BLOCK && !(await fill(q, BLOCK))) {
      if (q.buffered === 0) return; // no end-of-archive blocks: GNU tar and Go accept that
      throw truncated('a header');
    }
    const block = q.take(BLOCK);
    if (isZeroBlock(block)) {
      // GNU tar stops at the first zero block and warns when the second one is not zero.
      if ((await fill(q, BLOCK)) && !isZeroBlock(q.take(BLOCK))) opts.warn?.('lone-zero-block', 'a lone zero block ends the archive; what follows it is ignored');
      return;
    }
    if (signal?.aborted) throw interrupted();
    const h = decodeHeader(block);
    switch (h.typeflag) {
      case 'x':
      case 'X': // Solaris' older name for it; GNU tar reads both
        // Only the last of several extended headers counts (as in GNU, BSD and star tar).
        local = parsePaxRecords(await readMeta(q, h.size, 'a PAX extended header'));
        continue;
      case 'g':
        // POSIX: a record with an empty value deletes the global one.
        for (const r of parsePaxRecords(await readMeta(q, h.size, 'a PAX global header'))) {
          if (r.value.length === 0) globals.delete(r.key);
          else globals.set(r.key, r.value);
        }
        continue;
      case 'L':
        longName = cutAtNul(await readMeta(q, h.size, 'a GNU long name'));
        continue;
      case 'K':
        longLink = cutAtNul(await readMeta(q, h.size, 'a GNU long link name'));
        continue;
    }

    // A local record overrides the global one; an empty local value restores the header's field.
    let pax: Map<string, Buffer> = globals;
    if (local.length > 0) {
      pax = new Map(globals);
      for (const r of local) {
        if (r.value.length === 0) pax.delete(r.key);
        else pax.set(r.key, r.value);
      }
    }
    const localRecords = local;
    local = [];
    let name = text(pax.get('path')) ?? longName ?? h.name;
    const linkname = text(pax.get('linkpath')) ?? longLink ?? h.linkname;
    longName = undefined;
    longLink = undefined;

    let stored = h.size;
    const paxSize = text(pax.get('size'));
    if (paxSize !== undefined) {
      if (!/^[0-9]+$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) throw tarFormatError(`entry "${displayName(name)}": PAX size "${paxSize.slice(0, 40)}" is not a size`);
      stored = Number(paxSize);
    }
    if (isHeaderOnly(h.typeflag)) stored = 0;
    const where = (): string => `entry "${displayName(name)}"`;
    if (h.typeflag === 'M') throw tarFormatError(`${where()} continues a file from another volume of a multi-volume archive (not supported)`);

    const kind = entryKindOf(h.typeflag, name);
    let size = stored;
    let sparse: { spec: SparseSpec; realSize: number } | undefined;
    if (h.typeflag === 'S') {
      if (h.format !== 'gnu') throw tarFormatError(`${where()}: a sparse (type S) entry in a non-GNU header is not supported`);
      const old = oldGnuSparse(block);
      let more = old.extended;
      while (more) {
        if (!(await fill(q, BLOCK))) throw truncated(`the sparse map of ${where()}`);
        more = oldGnuSparseExtension(q.take(BLOCK), old.regions);
      }
      sparse = { spec: { kind: 'map', regions: old.regions }, realSize: old.realSize };
    } else {
      const ps = paxSparse(pax, localRecords);
      if (ps !== undefined) {
        if (kind !== 'file') throw tarFormatError(`${where()}: GNU sparse records on an entry that is not a regular file`);
        sparse = ps;
        if (ps.name !== undefined) name = ps.name;
      }
    }
    if (sparse !== undefined) size = sparse.realSize;

    const warnEntry = opts.warn === undefined ? undefined : (k: string, t: string): void => opts.warn?.(k, `entry "${displayName(name)}": ${t}`);
    const entry: TarEntry = {
      name,
      linkname,
      kind,
      type: typeflagName(h.typeflag),
      size,
      sparse: sparse !== undefined,
      meta: entryMeta({ mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime, pax }, kind ?? 'file', warnEntry),
      devmajor: h.devmajor,
      devminor: h.devminor,
    };

    const answer = opts.onEntry(entry);
    const body = isPromise(answer) ? await answer : answer;
    const write = body?.write.bind(body);
    try {
      const entryWhere = (): string => `the data of ${where()}`;
      if (sparse === undefined) await pushData(q, stored, 0, write, entryWhere);
      else if (sparse.spec.kind === 'map') {
        checkSparseMap(sparse.spec.regions, sparse.realSize);
        await pushSparse(q, sparse.spec.regions, stored, write, where);
      } else {
        // PAX 1.0: the map is the first blocks of the data.
        const mapData: Buffer[] = [];
        let map: ReturnType<typeof sparseMap1x0>;
        while (map === undefined) {
          if ((mapData.length + 1) * BLOCK > Math.min(stored, MAX_META)) throw tarFormatError(`${where()}: its GNU sparse 1.0 map is incomplete or too large`);
          if (!(await fill(q, BLOCK))) throw truncated(`the sparse map of ${where()}`);
          mapData.push(Buffer.from(q.take(BLOCK)));
          map = sparseMap1x0(Buffer.concat(mapData));
        }
        checkSparseMap(map.regions, sparse.realSize);
        await pushSparse(q, map.regions, stored - map.blocks * BLOCK, write, where);
      }
      await skipBytes(q, padding(stored), entryWhere);
    } catch (e) {
      body?.abort?.();
      throw e;
    }
    if (body !== undefined) {
      const r = body.end();
      if (r !== undefined) await r;
    }
  }
}

export async function walkTar(opts: WalkTarOptions): Promise<void> {
  const { signal, label } = opts;
  signal?.throwIfAborted();
  const tarStream = await layerToTarStream({
    stream: asReadable(opts.stream),
    mediaType: opts.mediaType,
    signal,
    label,
    zstd: opts.zstd,
    onBytes: opts.onBytes,
  });
  const q = byteQueue(tarStream, signal);
  try {
    await readEntries(q, opts);
    // Read to the end (ignored): the blob's digest is verified there.
    do q.skip(q.buffered);
    while (await q.more());
  } catch (e) {
    throw wrapWalkError(e, label, signal, opts.invalid ?? DEFAULT_INVALID);
  } finally {
    q.close();
  }
}

/**
 * Holes as zeros, for readers that want a file's bytes in order (image file reads, artifacts):
 * gaps between offsets and the end up to `size` are written as zero chunks.
 */
export function contiguous(body: EntryBody, size: number): EntryBody {
  let pos = 0;
  const zeros = async (upTo: number): Promise<void> => {
    while (pos < upTo) {
      const n = Math.min(upTo - pos, ZEROS.length);
      const r = body.write(ZEROS.subarray(0, n), pos);
      pos += n;
      if (r !== undefined) await r;
    }
  };
  return {
    write(chunk, offset) {
      if (offset === pos) {
        pos += chunk.length;
        return body.write(chunk, offset);
      }
      return zeros(offset).then(() => {
        pos += chunk.length;
        return body.write(chunk, offset);
      });
    },
    end() {
      if (pos >= size) return body.end();
      return zeros(size).then(() => body.end());
    },
    abort: () => body.abort?.(),
  };
}

const HOST_HINTS: Record<string, string> = {
  ENOSPC: 'the target filesystem is full; free space or choose another target directory',
  EDQUOT: 'the disk quota is exhausted; free space or choose another target directory',
  EACCES: 'the target directory is not writable by this user',
  EPERM: 'the operation is not permitted here (owners and device nodes need root; some filesystems refuse them)',
  EROFS: 'the target filesystem is read-only',
  ENAMETOOLONG: 'a path in the layer is too long for this filesystem (through its symlinks); GNU tar fails on it too',
  EMLINK: 'a file has more hardlinks, or a directory more entries, than this filesystem allows',
};

/** A failed syscall, named by its call and path (escaped, capped), with what to do about it. */
function hostError(e: NodeJS.ErrnoException, label: string): KairosImgError {
  const code = e.code ?? 'EIO';
  const path = e.path === undefined ? '' : ` "${displayName(Buffer.isBuffer(e.path) ? e.path.toString('latin1') : Buffer.from(e.path).toString('latin1'))}"`;
  const what = e.syscall === undefined ? e.message.slice(0, 200) : `${e.syscall}${path} failed: ${code}`;
  return new KairosImgError(fsErrorCode(code), `${label}: ${what}`, {
    hint: HOST_HINTS[code] ?? 'check the target directory and its filesystem',
    cause: e,
  });
}

function wrapWalkError(e: unknown, label: string, signal: AbortSignal | undefined, invalid: InvalidTarError): unknown {
  if (signal?.aborted || isAbortError(e)) return interrupted();
  if (e instanceof KairosImgError) return e;
  const code = errnoOf(e);
  // Filesystem failures (ENOSPC, EACCES…) are the host's problem; everything else came from the stream.
  if (code !== undefined && /^E[A-Z0-9]+$/.test(code)) return hostError(e as NodeJS.ErrnoException, label);
  return new KairosImgError(invalid.code, `${label}: ${e instanceof Error ? e.message : String(e)}`, {
    hint: invalid.hint,
    cause: e,
  });
}
