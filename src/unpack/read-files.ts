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
 * - `dirs` are listed with the same rules: a child found in a higher layer wins, a whiteout hides
 *   the child below, an opaque marker (or a whiteout or non-directory at the directory or above)
 *   ends the listing after its layer.
 * Limits: a symlinked *parent* directory is reported, not followed; a symlink target that was
 * already passed in a higher layer before the link was seen is reported as unreadable.
 *
 * Hand-written on the one tar walk (tar-walk.ts): node-tar's reader cannot stop between layers
 * cleanly nor tell us about whiteouts, and nothing on npm reads files out of OCI layer stacks.
 */
import type { Readable } from 'node:stream';
import type { ZstdDecoder } from './decompress.js';
import { displayName, fromBytes, normalizeEntryName, parentOf, toBytes } from './entry-path.js';
import type { EntryKind } from './entry-semantics.js';
import { contiguous, walkTar, type EntryBody, type InvalidTarError } from './tar-walk.js';
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

/** One child of a listed directory, as the merged image holds it (whiteouts applied). */
export interface DirEntry {
  readonly name: string;
  readonly kind: EntryKind | undefined;
  /** Symlink or hardlink target, as the entry names it. */
  readonly linkname?: string | undefined;
}

/**
 * A directory's children found in the layers read so far. `complete` once nothing below can add
 * one: every layer was read, or a layer replaced or emptied the directory (opaque whiteout,
 * whiteout, a non-directory entry at its path or above).
 */
export interface DirListing {
  readonly entries: readonly DirEntry[];
  readonly complete: boolean;
}

export interface FileView {
  lookup(path: string): Lookup;
  /** The children of a directory asked for in `dirs`. */
  list(dir: string): DirListing;
  /** The target of a wanted path that is a symlink or hardlink (without following it); else undefined. */
  link(path: string): string | undefined;
}

export interface ReadFilesOptions {
  /** The manifest's layers, bottom first (as a manifest lists them). */
  readonly layers: readonly LayerBlob[];
  /** Absolute paths inside the image, e.g. `/etc/os-release`. */
  readonly paths: readonly string[];
  /** Directories whose children are listed (`/lib/modules`), with the same layer semantics. */
  readonly dirs?: readonly string[] | undefined;
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

const DEFAULT_MAX_FILE = 256 * 1024;
const READ_FAILED: InvalidTarError = {
  code: 'LAYER_READ_FAILED',
  hint: 'the layer could not be read as a tar archive; try again, or pull the image to check it',
};
const MAX_LINK_HOPS = 16;
const KIND_NAMES: Record<EntryKind, string> = {
  file: 'regular file',
  dir: 'directory',
  symlink: 'symlink',
  hardlink: 'hardlink',
  'char-device': 'character device',
  'block-device': 'block device',
  fifo: 'fifo',
};

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

interface DirState {
  readonly children: Map<string, { kind: EntryKind | undefined; linkname?: string | undefined }>;
  readonly hidden: Set<string>;
  pendingHidden: string[];
  closing: boolean;
  closed: boolean;
}

/** The pure bookkeeping: which wanted paths (names as bytes) are decided, by which layer. */
function createTracker(paths: readonly string[], dirPaths: readonly string[] = []) {
  const wanted = new Set(paths.map(rel));
  const dirs = new Map<string, DirState>(dirPaths.map((d) => [rel(d), { children: new Map(), hidden: new Set(), pendingHidden: [], closing: false, closed: false }]));
  // A non-directory, a whiteout or an opaque marker at a listed directory or above it closes it after this layer.
  const closeAt = (path: string): void => {
    for (const [d, st] of dirs) {
      if (!st.closed && (d === path || under(d, path))) st.closing = true;
    }
  };
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
      entries.set(path, { kind: 'unreadable', why: `link target /${displayName(path)} was passed before the link was read`, layer, again: true });
    }
  };

  const lookup = (path: string): Lookup => lookupIn(entries, wanted, complete, path);

  const list = (dir: string): DirListing => {
    const st = dirs.get(rel(toBytes(dir)));
    if (st === undefined) return { entries: [], complete: false };
    const entries = [...st.children].map(([name, c]) => ({ name: fromBytes(name), kind: c.kind, ...(c.linkname === undefined ? {} : { linkname: fromBytes(c.linkname) }) }));
    return { entries: entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), complete: st.closed || complete };
  };
  const link = (path: string): string | undefined => {
    const e = entries.get(rel(toBytes(path)));
    return e?.kind === 'link' ? fromBytes(e.target) : undefined;
  };

  return {
    /** A child of a listed directory, in layer order (higher layers first). */
    child(path: string, kind: EntryKind | undefined, linkname: string | undefined): void {
      if (kind !== 'dir') closeAt(path);
      for (const [d, st] of dirs) {
        if (st.closed || !under(path, d) || path === d) continue;
        // Archives may leave parent directories out: an entry deeper down names its child directory.
        const rest = d === '' ? path : path.slice(d.length + 1);
        const slash = rest.indexOf('/');
        const name = slash < 0 ? rest : rest.slice(0, slash);
        if (name === '' || st.hidden.has(name) || st.children.has(name)) continue;
        st.children.set(name, slash < 0 ? { kind, linkname } : { kind: 'dir' });
      }
    },
    dirWhiteout(target: string): void {
      closeAt(target);
      const st = dirs.get(parentOf(target));
      if (st !== undefined && !st.closed) st.pendingHidden.push(target.slice(target.lastIndexOf('/') + 1));
    },
    dirOpaque(dir: string): void {
      for (const [d, st] of dirs) if (!st.closed && (d === dir || under(d, dir))) st.closing = true;
    },
    everyDirClosed: (): boolean => [...dirs.values()].every((st) => st.closed),
    list,
    link,
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
      for (const st of dirs.values()) {
        for (const h of st.pendingHidden) st.hidden.add(h);
        st.pendingHidden = [];
        if (st.closing) st.closed = true;
      }
      for (const w of wanted) {
        if (entries.has(w)) continue;
        if (whiteouts.some((t) => w === t || under(w, t))) entries.set(w, { kind: 'absent', why: 'whiteout', layer });
        else if (opaques.some((d) => under(w, d))) entries.set(w, { kind: 'absent', why: 'opaque', layer });
        else {
          const s = shadows.find((x) => under(w, x.path));
          if (s?.symlink === true) entries.set(w, { kind: 'unreadable', why: `parent /${displayName(s.path)} is a symlink (not followed)`, layer });
          else if (s !== undefined) entries.set(w, { kind: 'absent', why: 'shadowed', layer });
        }
      }
    },
    finish(): void {
      complete = true;
      for (const st of dirs.values()) st.closed = true;
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

/** Gathers a wanted file's content (release files are small; larger ones are refused before this). */
function collect(onDone: (content: Buffer) => void): EntryBody {
  const chunks: Buffer[] = [];
  return {
    write(chunk) {
      chunks.push(chunk);
    },
    end() {
      onDone(Buffer.concat(chunks));
    },
  };
}

async function readLayer(blob: LayerBlob, index: number, t: Tracker, opts: ReadFilesOptions, onBytes: (n: number) => void): Promise<void> {
  const signal = opts.signal;
  const max = opts.maxFileSize ?? DEFAULT_MAX_FILE;
  await walkTar({
    stream: await blob.open(signal),
    mediaType: blob.mediaType,
    signal,
    label: `layer ${blob.digest}`,
    zstd: opts.zstd,
    onBytes,
    invalid: READ_FAILED,
    onEntry: (entry) => {
      const name = rel(entry.name);
      t.seen(name);
      const wh = classifyWhiteout(name);
      if (wh.kind === 'whiteout') {
        t.whiteout(wh.target);
        t.dirWhiteout(wh.target);
      } else if (wh.kind === 'opaque') {
        t.opaque(wh.dir);
        t.dirOpaque(wh.dir);
      }
      if (wh.kind !== 'none') return undefined;
      t.child(name, entry.kind, entry.kind === 'symlink' || entry.kind === 'hardlink' ? entry.linkname : undefined);
      if (t.wanted(name)) {
        switch (entry.kind) {
          case 'file':
            if (entry.size > max) {
              t.found(name, { kind: 'unreadable', why: `/${displayName(name)} is larger than ${max} bytes`, layer: index });
              return undefined;
            }
            return contiguous(collect((content) => t.found(name, { kind: 'file', content, layer: index })), entry.size);
          case 'symlink':
          case 'hardlink': {
            const hard = entry.kind === 'hardlink';
            t.found(name, { kind: 'link', target: linkTarget(name, entry.linkname, hard), hard, layer: index });
            return undefined;
          }
          default:
            t.found(name, { kind: 'unreadable', why: `/${displayName(name)} is ${entry.kind === undefined ? `an entry of type ${entry.type}` : `a ${KIND_NAMES[entry.kind]}`}, not a file`, layer: index });
            return undefined;
        }
      }
      if (entry.kind !== 'dir' && t.isWantedAncestor(name)) t.shadow(name, entry.kind === 'symlink');
      return undefined;
    },
  });
}

/**
 * Reads `paths` from the image whose `layers` are given (bottom first), top layer first. A link
 * whose target was already passed (earlier in the same layer, or in a higher one) costs a second
 * pass for the target alone; release files rarely need it (their link targets are asked for).
 */
export async function readImageFiles(opts: ReadFilesOptions): Promise<ReadFilesResult> {
  const first = await readPass(opts, opts.paths.map(toBytes), (opts.dirs ?? []).map(toBytes));
  const wanted = new Set(first.wanted);
  let entries = first.entries;
  let bytesRead = first.bytesRead;
  for (let pass = 0; pass < MAX_LINK_HOPS; pass++) {
    const again = [...entries].filter(([, e]) => e.kind === 'unreadable' && e.again === true).map(([p]) => `/${p}`);
    if (again.length === 0) break;
    const next = await readPass({ ...opts, decided: undefined }, again, []);
    bytesRead += next.bytesRead;
    for (const w of next.wanted) wanted.add(w);
    const merged = new Map(entries);
    for (const [p, e] of next.entries) if (!merged.has(p) || (merged.get(p)?.kind === 'unreadable' && again.includes(`/${p}`))) merged.set(p, e);
    entries = merged;
  }
  const complete = first.complete;
  const { wanted: _, ...result } = first;
  const found = entries;
  return {
    ...result, entries: asText(found), bytesRead,
    lookup: (path) => lookupIn(found, wanted, complete, path),
    link: (path) => {
      const e = found.get(rel(toBytes(path)));
      return e?.kind === 'link' ? fromBytes(e.target) : undefined;
    },
  };
}

/** The entries keyed (and link targets named) as text, for the API; names stay bytes inside. */
function asText(entries: ReadonlyMap<string, FoundEntry>): ReadonlyMap<string, FoundEntry> {
  return new Map([...entries].map(([p, e]) => [fromBytes(p), e.kind === 'link' ? { ...e, target: fromBytes(e.target) } : e]));
}

function lookupIn(entries: ReadonlyMap<string, FoundEntry>, wanted: ReadonlySet<string>, complete: boolean, path: string): Lookup {
  let p = rel(toBytes(path));
  for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    const e = entries.get(p);
    if (e === undefined) {
      if (!wanted.has(p)) return { state: 'unknown', reason: `/${displayName(p)} was not looked for` };
      return complete ? { state: 'absent' } : { state: 'unknown' };
    }
    switch (e.kind) {
      case 'file': return { state: 'present', content: e.content, path: `/${fromBytes(p)}` };
      case 'absent': return { state: 'absent' };
      case 'unreadable': return { state: 'unknown', reason: e.why };
      case 'link': p = e.target; break;
    }
  }
  return { state: 'unknown', reason: `too many symlinks from ${path}` };
}

/** One top-down pass for `paths` (names as bytes), listing `dirs`. */
async function readPass(opts: ReadFilesOptions, paths: readonly string[], dirs: readonly string[]): Promise<ReadFilesResult & { wanted: ReadonlySet<string> }> {
  const t = createTracker(paths, dirs);
  const decided = opts.decided ?? ((): boolean => t.everyWantedDecided() && t.everyDirClosed());
  const view: FileView = { lookup: t.lookup, list: t.list, link: t.link };
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
    if ((t.everyWantedDecided() && t.everyDirClosed()) || decided(view)) break;
  }
  if (layersRead === opts.layers.length) t.finish();
  return {
    entries: t.entries,
    lookup: t.lookup,
    list: t.list,
    link: t.link,
    bytesRead,
    layersRead,
    layersTotal: opts.layers.length,
    bytesTotal: opts.layers.reduce((a, l) => a + l.size, 0),
    complete: t.isComplete(),
    wanted: t.wantedPaths,
  };
}
