/**
 * Reads a few named files out of an image without unpacking it: the layers are streamed from the
 * top one down, each through decompression into a tar reader, and reading stops after the layer
 * in which the caller's `decided` says it has what it needs. The first layer (from the top) that
 * holds a path, or hides it with a whiteout, decides it; lower layers are never requested.
 *
 * A layer that is read is read to its end even when the files were found early: the registry
 * client checks a blob's digest only at its end, and nothing taken from an unverified blob may be
 * used (docs/registry-protocol.md). Lower layers, often the big base of the distribution, are what is saved.
 *
 * Semantics (image-spec layer.md, top-down):
 * - `.wh.<name>` hides `<name>` and everything under it in lower layers; `.wh..wh..opq` hides the
 *   lower content of its directory; a non-directory entry in a higher layer hides everything lower
 *   under its path. Entries of the same layer are not hidden by that layer's own whiteouts.
 * - A symlink at a wanted path is followed inside the image (its target becomes wanted too); a
 *   hardlink is treated the same way (its target, as the merged image holds it).
 * Limits: a symlinked *parent* directory is reported, not followed; a symlink target that was
 * already passed in a higher layer before the link was seen is reported as unreadable.
 *
 * Hand-written on tar-stream: node-tar's reader cannot stop between layers cleanly nor tell us
 * about whiteouts, and nothing on npm reads files out of OCI layer stacks.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { KairosImgError } from '../errors.js';
import { asReadable, layerToTarStream, type ZstdDecoder } from './decompress.js';
import { normalizeEntryName, parentOf } from './entry-path.js';
import { classifyWhiteout } from './whiteout.js';

export interface LayerBlob {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  open(signal?: AbortSignal): Readable | NodeJS.ReadableStream | Promise<Readable | NodeJS.ReadableStream>;
}

/** What the layers read so far say about one path (before following symlinks). */
export type FoundEntry =
  | { readonly kind: 'file'; readonly content: Buffer; readonly layer: number }
  | { readonly kind: 'link'; readonly target: string; readonly hard: boolean; readonly layer: number }
  | { readonly kind: 'absent'; readonly why: 'whiteout' | 'opaque' | 'shadowed' | 'not-in-image'; readonly layer?: number }
  | { readonly kind: 'unreadable'; readonly why: string; readonly layer?: number; /** A link target passed before its link: read again. */ readonly again?: true };

/** A path as the image holds it, symlinks followed; `unknown` while the layers that decide it are unread. */
export type Lookup =
  | { readonly state: 'present'; readonly content: Buffer; /** After symlinks, with a leading `/`. */ readonly path: string }
  | { readonly state: 'absent' }
  | { readonly state: 'unknown'; readonly reason?: string | undefined };

export interface FileView {
  lookup(path: string): Lookup;
}

export interface ReadFilesOptions {
  /** The manifest's layers, bottom first (as a manifest lists them). */
  readonly layers: readonly LayerBlob[];
  /** Absolute paths inside the image, e.g. `/etc/os-release`. */
  readonly paths: readonly string[];
  /** Stop after the layer in which this returns true. Default: every wanted path decided. */
  readonly decided?: ((view: FileView) => boolean) | undefined;
  /** Larger files are reported unreadable instead of buffered (release files are tiny). */
  readonly maxFileSize?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly zstd?: ZstdDecoder | undefined;
  /** Called when a layer starts (index in manifest order). */
  readonly onLayer?: ((index: number, digest: string) => void) | undefined;
}

export interface ReadFilesResult extends FileView {
  readonly entries: ReadonlyMap<string, FoundEntry>;
  /** Compressed bytes read from the layer blobs. */
  readonly bytesRead: number;
  readonly layersRead: number;
  readonly layersTotal: number;
  /** Compressed size of all layers, for comparison with bytesRead. */
  readonly bytesTotal: number;
  /** True when every layer was read (nothing wanted can still be hidden below). */
  readonly complete: boolean;
}

type TarEntry = AsyncIterable<Buffer> & { header: tar.Header };

const DEFAULT_MAX_FILE = 256 * 1024;
const MAX_LINK_HOPS = 16;

function rel(path: string): string {
  return normalizeEntryName(path).path;
}

function linkTarget(from: string, linkname: string, hard: boolean): string {
  // Hardlink names are archive paths (root-relative); symlinks are relative to their directory.
  if (hard || linkname.startsWith('/')) return rel(linkname);
  const dir = parentOf(from);
  return rel(dir === '' ? linkname : `${dir}/${linkname}`);
}

function under(path: string, dir: string): boolean {
  return dir === '' || path.startsWith(`${dir}/`);
}

/** The pure bookkeeping: which wanted paths are decided, by which layer. */
function createTracker(paths: readonly string[]) {
  const wanted = new Set(paths.map(rel));
  const entries = new Map<string, FoundEntry>();
  const seen = new Set<string>();
  let complete = false;
  let layer = -1;
  let whiteouts: string[] = [];
  let opaques: string[] = [];
  let shadows: Array<{ path: string; symlink: boolean }> = [];

  const decidedAbove = (path: string): boolean => {
    const e = entries.get(path);
    return e !== undefined && e.layer !== layer;
  };

  const want = (path: string): void => {
    if (wanted.has(path)) return;
    wanted.add(path);
    if (seen.has(path) && !entries.has(path)) {
      entries.set(path, { kind: 'unreadable', why: `link target /${path} was passed before the link was read`, layer, again: true });
    }
  };

  const lookup = (path: string): Lookup => lookupIn(entries, wanted, complete, path);

  return {
    wanted: (path: string): boolean => wanted.has(path) && !decidedAbove(path),
    isWantedAncestor: (path: string): boolean => [...wanted].some((w) => under(w, path) && w !== path && !decidedAbove(w)),
    startLayer(index: number): void {
      layer = index;
      whiteouts = [];
      opaques = [];
      shadows = [];
    },
    seen(path: string): void {
      seen.add(path);
    },
    whiteout(target: string): void {
      whiteouts.push(target);
    },
    opaque(dir: string): void {
      opaques.push(dir);
    },
    shadow(path: string, symlink: boolean): void {
      shadows.push({ path, symlink });
    },
    found(path: string, entry: FoundEntry): void {
      entries.set(path, entry);
      if (entry.kind === 'link') want(entry.target);
    },
    /** Applies this layer's whiteouts to the wanted paths it did not itself decide. */
    endLayer(): void {
      for (const w of wanted) {
        if (entries.has(w)) continue;
        if (whiteouts.some((t) => w === t || under(w, t))) entries.set(w, { kind: 'absent', why: 'whiteout', layer });
        else if (opaques.some((d) => under(w, d))) entries.set(w, { kind: 'absent', why: 'opaque', layer });
        else {
          const s = shadows.find((x) => under(w, x.path));
          if (s?.symlink === true) entries.set(w, { kind: 'unreadable', why: `parent /${s.path} is a symlink (not followed)`, layer });
          else if (s !== undefined) entries.set(w, { kind: 'absent', why: 'shadowed', layer });
        }
      }
    },
    finish(): void {
      complete = true;
      for (const w of wanted) if (!entries.has(w)) entries.set(w, { kind: 'absent', why: 'not-in-image' });
    },
    everyWantedDecided: (): boolean => [...wanted].every((w) => entries.has(w)),
    lookup,
    entries,
    wantedPaths: wanted as ReadonlySet<string>,
    isComplete: (): boolean => complete,
  };
}

type Tracker = ReturnType<typeof createTracker>;

async function drain(entry: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of entry) {
    // discard
  }
}

async function readContent(entry: AsyncIterable<Buffer>, size: number, max: number): Promise<Buffer | undefined> {
  if (size > max) {
    await drain(entry);
    return undefined;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function readLayer(blob: LayerBlob, index: number, t: Tracker, opts: ReadFilesOptions, onBytes: (n: number) => void): Promise<void> {
  const signal = opts.signal;
  const label = `layer ${blob.digest}`;
  const tarStream = await layerToTarStream({
    stream: asReadable(await blob.open(signal)),
    mediaType: blob.mediaType,
    signal,
    label,
    zstd: opts.zstd,
    onBytes,
  });
  const extract = tar.extract();
  const feeding = pipeline(tarStream, extract, ...(signal ? [{ signal }] : []));
  feeding.catch(() => undefined);
  const max = opts.maxFileSize ?? DEFAULT_MAX_FILE;
  try {
    for await (const entry of extract as AsyncIterable<TarEntry>) {
      const h = entry.header;
      const name = rel(h.name);
      t.seen(name);
      const wh = classifyWhiteout(name);
      if (wh.kind === 'whiteout') t.whiteout(wh.target);
      else if (wh.kind === 'opaque') t.opaque(wh.dir);
      if (wh.kind !== 'none') {
        await drain(entry);
        continue;
      }
      if (t.wanted(name)) {
        switch (h.type) {
          case 'file':
          case 'contiguous-file': {
            const content = await readContent(entry, h.size ?? 0, max);
            t.found(name, content === undefined
              ? { kind: 'unreadable', why: `/${name} is larger than ${max} bytes`, layer: index }
              : { kind: 'file', content, layer: index });
            continue;
          }
          case 'symlink':
          case 'link': {
            const hard = h.type === 'link';
            t.found(name, { kind: 'link', target: linkTarget(name, h.linkname ?? '', hard), hard, layer: index });
            break;
          }
          default:
            t.found(name, { kind: 'unreadable', why: `/${name} is a ${h.type ?? 'special entry'}, not a file`, layer: index });
        }
      } else if (h.type !== 'directory' && t.isWantedAncestor(name)) {
        t.shadow(name, h.type === 'symlink');
      }
      await drain(entry);
    }
    await feeding;
  } catch (e) {
    extract.destroy();
    tarStream.destroy();
    await feeding.catch(() => undefined);
    if (e instanceof KairosImgError) throw e;
    if (signal?.aborted === true) throw new KairosImgError('INTERRUPTED', 'interrupted', { cause: e });
    throw new KairosImgError('LAYER_READ_FAILED', `${label}: ${e instanceof Error ? e.message : String(e)}`, {
      hint: 'the layer could not be read as a tar archive; try again, or pull the image to check it',
      cause: e,
    });
  }
}

/**
 * Reads `paths` from the image whose `layers` are given (bottom first), top layer first. A link
 * whose target was already passed (earlier in the same layer, or in a higher one) costs a second
 * pass for the target alone; release files rarely need it (their link targets are asked for).
 */
export async function readImageFiles(opts: ReadFilesOptions): Promise<ReadFilesResult> {
  const first = await readPass(opts);
  const wanted = new Set(first.wanted);
  let entries = first.entries;
  let bytesRead = first.bytesRead;
  for (let pass = 0; pass < MAX_LINK_HOPS; pass++) {
    const again = [...entries].filter(([, e]) => e.kind === 'unreadable' && e.again === true).map(([p]) => `/${p}`);
    if (again.length === 0) break;
    const next = await readPass({ ...opts, paths: again, decided: undefined });
    bytesRead += next.bytesRead;
    for (const w of next.wanted) wanted.add(w);
    const merged = new Map(entries);
    for (const [p, e] of next.entries) if (!merged.has(p) || (merged.get(p)?.kind === 'unreadable' && again.includes(`/${p}`))) merged.set(p, e);
    entries = merged;
  }
  const complete = first.complete;
  const { wanted: _, ...result } = first;
  return { ...result, entries, bytesRead, lookup: (path) => lookupIn(entries, wanted, complete, path) };
}

function lookupIn(entries: ReadonlyMap<string, FoundEntry>, wanted: ReadonlySet<string>, complete: boolean, path: string): Lookup {
  let p = rel(path);
  for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    const e = entries.get(p);
    if (e === undefined) {
      if (!wanted.has(p)) return { state: 'unknown', reason: `/${p} was not looked for` };
      return complete ? { state: 'absent' } : { state: 'unknown' };
    }
    switch (e.kind) {
      case 'file': return { state: 'present', content: e.content, path: `/${p}` };
      case 'absent': return { state: 'absent' };
      case 'unreadable': return { state: 'unknown', reason: e.why };
      case 'link': p = e.target; break;
    }
  }
  return { state: 'unknown', reason: `too many symlinks from ${path}` };
}

async function readPass(opts: ReadFilesOptions): Promise<ReadFilesResult & { wanted: ReadonlySet<string> }> {
  const t = createTracker(opts.paths);
  const decided = opts.decided ?? ((): boolean => t.everyWantedDecided());
  let bytesRead = 0;
  let layersRead = 0;
  for (let i = opts.layers.length - 1; i >= 0; i--) {
    opts.signal?.throwIfAborted();
    const blob = opts.layers[i] as LayerBlob;
    opts.onLayer?.(i, blob.digest);
    t.startLayer(i);
    let layerBytes = 0;
    try {
      await readLayer(blob, i, t, opts, (n) => {
        layerBytes = n;
      });
    } finally {
      bytesRead += layerBytes;
    }
    layersRead++;
    t.endLayer();
    if (t.everyWantedDecided() || decided({ lookup: t.lookup })) break;
  }
  if (layersRead === opts.layers.length) t.finish();
  return {
    entries: t.entries,
    lookup: t.lookup,
    bytesRead,
    layersRead,
    layersTotal: opts.layers.length,
    bytesTotal: opts.layers.reduce((a, l) => a + l.size, 0),
    complete: t.isComplete(),
    wanted: t.wantedPaths,
  };
}
