/**
 * The content of ORAS layers on disk: a file's digest (read once, streamed), and a directory
 * packed the way oras-go's file store packs one (`content/file` tarDirectory + descriptorFromDir):
 * a gzip of a tar whose entries are named `<title>/<path relative to the directory>` (the
 * directory itself as `<title>`), walked in lexical order without following symlinks, uid/gid 0
 * and no user or group names, modification times to the second, hard links stored as regular
 * files (oras makes none), sockets refused. The tar is written by tar-stream and gzipped by zlib
 * into a temporary file while both digests are computed on the way — the tar's for
 * `io.deis.oras.content.digest`, the gzip's for the layer.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { lstat, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type tar from 'tar-stream';
import { tarStreamPackage } from '../lazy-packages.js';
import { KairosImgError } from '../errors.js';
import { digestingStream } from '../oci/artifact-stream.js';

export interface FileDigest {
  digest: string;
  size: number;
}

/** The sha256 of a file, read as a stream (a 5 GB disk image never sits in memory). */
export async function digestFile(file: string, opts: { signal?: AbortSignal | undefined; onBytes?: ((n: number) => void) | undefined } = {}): Promise<FileDigest> {
  const d = digestingStream('sha256', opts.onBytes);
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), d, async (src) => {
    for await (const _ of src) {
      // hashed on the way
    }
  }, ...(opts.signal ? [{ signal: opts.signal }] : []));
  return d.result();
}

export interface PackedDirectory {
  /** The temporary gzip file. */
  file: string;
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar. */
  tarDigest: string;
  entries: number;
  /** Removes the temporary file. */
  dispose(): Promise<void>;
}

interface Walked {
  rel: string;
  abs: string;
}

/** Go's filepath.Walk order: the root, then each directory's names sorted by their bytes. */
async function* walk(root: string, rel = ''): AsyncGenerator<Walked & { st: BigIntStats }> {
  const abs = rel === '' ? root : path.join(root, rel);
  const st = await lstat(abs, { bigint: true });
  yield { rel, abs, st };
  if (!st.isDirectory()) return;
  const names = (await readdir(abs)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) yield* walk(root, rel === '' ? name : `${rel}/${name}`);
}

/** Go's `ModTime.Round(time.Second)` (archive/tar rounds when no format is chosen). */
function roundedMtime(ns: bigint): Date {
  const s = (ns + 500_000_000n) / 1_000_000_000n;
  return new Date(Number(s) * 1000);
}

/** Linux `major()`/`minor()` of a device number. */
function devParts(rdev: bigint): { devmajor: number; devminor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { devmajor: Number(major & 0xffffffffn), devminor: Number(minor & 0xffffffffn) };
}

/** Packs `dir` as oras does, with `prefix` (the layer's title) as the top of every entry name. */
export async function packDirectory(opts: {
  dir: string;
  prefix: string;
  signal?: AbortSignal | undefined;
  /** Bytes of the gzip written so far. */
  onBytes?: ((n: number) => void) | undefined;
  tempRoot?: string | undefined;
}): Promise<PackedDirectory> {
  const work = await mkdtemp(path.join(opts.tempRoot ?? tmpdir(), 'kairos-img-pack-'));
  const file = path.join(work, `${randomBytes(6).toString('hex')}.tar.gz`);
  const dispose = (): Promise<void> => rm(work, { recursive: true, force: true });
  const pack = tarStreamPackage().pack();
  const tarDigest = digestingStream('sha256');
  const gzDigest = digestingStream('sha256', opts.onBytes);
  const writing = pipeline(pack, tarDigest, createGzip({ level: 6 }), gzDigest, createWriteStream(file, { flags: 'wx', mode: 0o600, highWaterMark: 1024 * 1024 }),
    ...(opts.signal ? [{ signal: opts.signal }] : []));
  writing.catch(() => undefined); // awaited below; an early failure is seen there
  let entries = 0;
  try {
    for await (const { rel, abs, st } of walk(opts.dir)) {
      opts.signal?.throwIfAborted();
      const name = rel === '' ? opts.prefix : `${opts.prefix}/${rel}`;
      const base = { name, mode: Number(st.mode & 0o7777n), uid: 0, gid: 0, uname: '', gname: '', mtime: roundedMtime(st.mtimeNs) };
      entries++;
      if (st.isSocket()) {
        throw new KairosImgError('UNSUPPORTED_FILE_TYPE', `${abs} is a socket; a packed directory cannot hold one (oras refuses them too)`, { hint: 'remove it, or push the files you need one by one' });
      }
      if (st.isFile()) {
        const size = Number(st.size);
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry({ ...base, type: 'file', size }, (err) => (err ? reject(err) : resolve()));
          pipeline(createReadStream(abs, { highWaterMark: 1024 * 1024 }), sink).catch(reject);
        });
        continue;
      }
      const header: Partial<tar.Header> & Pick<tar.Header, 'name'> = st.isDirectory() ? { ...base, type: 'directory' }
        : st.isSymbolicLink() ? { ...base, type: 'symlink', linkname: await readlink(abs) }
          : st.isFIFO() ? { ...base, type: 'fifo' }
            : st.isCharacterDevice() ? { ...base, type: 'character-device', ...devParts(st.rdev) }
              : { ...base, type: 'block-device', ...devParts(st.rdev) };
      await new Promise<void>((resolve, reject) => {
        pack.entry(header, (err) => (err ? reject(err) : resolve()));
      });
    }
    pack.finalize();
    await writing;
  } catch (e) {
    pack.destroy();
    await writing.catch(() => undefined);
    await dispose();
    throw e;
  }
  const gz = gzDigest.result();
  return { file, digest: gz.digest, size: gz.size, tarDigest: tarDigest.result().digest, entries, dispose };
}
