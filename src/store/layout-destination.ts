/**
 * An OCI image layout as a mirror destination (`mirror --to oci:DIR`, for sneakernet), and a tar of
 * one (`--to oci-archive:FILE`). The layout is written with the content cache's own machinery (a
 * store is an OCI layout: blobs verified, fsynced and renamed into place; index.json replaced
 * under a lock), so every image named in index.json is complete and a second run finds what the
 * first wrote. Each image is named `<repository path>:<tag>` in `org.opencontainers.image.ref.name`,
 * which `skopeo inspect oci:DIR:kairos/ubuntu:T` reads.
 *
 * The archive is staged as a layout in a temporary sibling directory (with the members of an
 * archive already at FILE, so a second run adds to it and copies nothing twice), then written as a
 * tar beside FILE and renamed over it: never a half-written FILE.
 */
import { createReadStream } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { tarStreamPackage } from '../lazy-packages.js';
import { KairosImgError, fsFailure, isErrnoError } from '../errors.js';
import type { Descriptor } from '../oci/index.js';
import { openStore, TEMP_PREFIX, type Store } from './layout.js';
import { archiveView, type FileView } from './sources/files.js';
import { sweepLeftovers, tempName } from '../temp-names.js';

export interface LayoutDestination {
  readonly dir: string;
  readonly store: Store;
  /** True when the layout has the blob (its bytes are not checked again here). */
  has(digest: string): Promise<boolean>;
  /** Writes a blob from a verified stream; false when it was there already. */
  putBlob(descriptor: Descriptor, data: () => Readable, signal?: AbortSignal): Promise<boolean>;
  /** A child manifest (by digest only). */
  putManifestBlob(descriptor: Descriptor, raw: Buffer, signal?: AbortSignal): Promise<void>;
  /** The image's top document, named `refName` in index.json. */
  name(refName: string, descriptor: Descriptor, raw: Buffer, signal?: AbortSignal): Promise<void>;
  /** The digest `refName` names now, if any. */
  named(refName: string): Promise<string | undefined>;
  /** Writes the archive (oci-archive) and removes the staging; nothing to do for a directory. */
  finish(signal?: AbortSignal): Promise<void>;
  /** Drops the staging of an archive that was not finished. */
  abandon(): Promise<void>;
}

const ARCHIVE_STAGING = 'kimg-archive';

function layoutDestinationAt(dir: string, store: Store, hooks: { finish?: (signal?: AbortSignal) => Promise<void>; abandon?: () => Promise<void> } = {}): LayoutDestination {
  return {
    dir,
    store,
    has: (digest) => store.has(digest),
    async putBlob(descriptor, data, signal) {
      if (await store.has(descriptor.digest)) return false;
      // The stream verifies itself (it comes from an image source), so it is not hashed twice.
      const { written } = await store.writeBlob(descriptor, data(), { signal, preverified: true });
      return written;
    },
    async putManifestBlob(descriptor, raw, signal) {
      await store.writeBlob(descriptor, raw, { signal });
    },
    async name(refName, descriptor, raw, signal) {
      await store.putManifest(refName, { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size }, raw, { signal });
    },
    async named(refName) {
      return (await store.resolveTag(refName))?.digest;
    },
    finish: hooks.finish ?? (async () => undefined),
    abandon: hooks.abandon ?? (async () => undefined),
  };
}

/** `oci:DIR`: created as a layout when new or empty; an existing layout is added to; anything else is refused. */
export async function openLayoutDestination(dir: string): Promise<LayoutDestination> {
  const root = path.resolve(dir);
  let names: string[] = [];
  try {
    names = await readdir(root);
  } catch (e) {
    if (!(isErrnoError(e) && e.code === 'ENOENT')) throw isErrnoError(e) ? fsFailure(e, `reading ${root}`, root) : e;
  }
  if (names.length > 0 && !names.includes('oci-layout')) {
    throw new KairosImgError('OUTPUT_NOT_LAYOUT', `${root} exists and is not an OCI image layout`, {
      hint: 'choose a new or empty directory, or an existing OCI layout to add the images to',
    });
  }
  return layoutDestinationAt(root, await openStore({ root }));
}

async function copyMember(view: FileView, name: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  await pipeline(view.open(name), createWriteStream(to, { flags: 'w' }));
}

/** `oci-archive:FILE`: staged as a layout (seeded with FILE's members when it exists), tarred into FILE on finish. */
export async function openArchiveDestination(file: string, opts: { signal?: AbortSignal | undefined } = {}): Promise<LayoutDestination> {
  const target = path.resolve(file);
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  await sweepLeftovers(parent, [ARCHIVE_STAGING, TEMP_PREFIX]);
  const staging = path.join(parent, tempName(ARCHIVE_STAGING, path.basename(target)));
  const abandon = (): Promise<void> => rm(staging, { recursive: true, force: true });
  try {
    await mkdir(staging, { recursive: true });
    let existing = false;
    try {
      existing = (await stat(target)).isFile();
    } catch (e) {
      if (!(isErrnoError(e) && e.code === 'ENOENT')) throw e;
    }
    if (existing) {
      // What the archive holds already is kept: the next image is added beside it.
      const view = await archiveView(target, { where: `oci-archive:${target}`, spoolDir: parent, signal: opts.signal });
      try {
        for (const name of await view.names()) {
          if (name === 'oci-layout' || name === 'index.json' || name.startsWith('blobs/')) await copyMember(view, name, path.join(staging, name));
        }
      } finally {
        await view.close();
      }
    }
    const store = await openStore({ root: staging });
    return layoutDestinationAt(target, store, {
      abandon,
      finish: async (signal) => {
        await writeLayoutTar(staging, target, signal);
        await abandon();
      },
    });
  } catch (e) {
    await abandon();
    throw isErrnoError(e) ? fsFailure(e, `preparing ${target}`, parent) : e;
  }
}

/** The files of a layout directory, for the archive: oci-layout, index.json, then the blobs. */
async function layoutFiles(dir: string): Promise<string[]> {
  const blobs: string[] = [];
  for (const alg of await readdir(path.join(dir, 'blobs'))) {
    for (const name of (await readdir(path.join(dir, 'blobs', alg))).sort()) {
      if (!name.startsWith('.')) blobs.push(`blobs/${alg}/${name}`);
    }
  }
  // index.json first: a reader that streams (skopeo's oci-archive reader extracts whole) finds it early.
  return ['oci-layout', 'index.json', ...blobs];
}

/** Tars the layout `dir` into `file` (temporary name beside it, fsynced by close, renamed). */
async function writeLayoutTar(dir: string, file: string, signal?: AbortSignal): Promise<void> {
  const tmp = path.join(path.dirname(file), tempName(TEMP_PREFIX, path.basename(file)));
  const pack = tarStreamPackage().pack();
  const written = pipeline(pack, createWriteStream(tmp, { flags: 'wx', highWaterMark: 1024 * 1024 }), signal ? { signal } : {});
  written.catch(() => undefined);
  try {
    for (const name of await layoutFiles(dir)) {
      signal?.throwIfAborted();
      const full = path.join(dir, name);
      const size = (await stat(full)).size;
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name, size, mode: 0o644, mtime: new Date(0), type: 'file' }, (err) => (err ? reject(err) : resolve()));
        pipeline(createReadStream(full, { highWaterMark: 1024 * 1024 }), entry).catch(reject);
      });
    }
    pack.finalize();
    await written;
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    pack.destroy();
    await written.catch(() => undefined);
    await rm(tmp, { force: true });
    throw isErrnoError(e) ? fsFailure(e, `writing ${file}`, path.dirname(file)) : e;
  }
}
