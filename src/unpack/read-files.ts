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

/** The pure bookkeeping: which wanted paths (names as bytes) are decided, by which layer. */
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
      entries.set(path, { kind: 'unreadable', why: `link target /${displayName(path)} was passed before the link was read`, layer, again: true });
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
          if (s?.symlink === true) entries.set(w, { kind: 'unreadable', why: `parent /${displayName(s.path)} is a symlink (not followed)`, layer });
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
      if (wh.kind === 'whiteout') t.whiteout(wh.target);
      else if (wh.kind === 'opaque') t.opaque(wh.dir);
      if (wh.kind !== 'none') return undefined;
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
  const first = await readPass(opts, opts.paths.map(toBytes));
  const wanted = new Set(first.wanted);
  let entries = first.entries;
  let bytesRead = first.bytesRead;
  for (let pass = 0; pass < MAX_LINK_HOPS; pass++) {
    const again = [...entries].filter(([, e]) => e.kind === 'unreadable' && e.again === true).map(([p]) => `/${p}`);
    if (again.length === 0) break;
    const next = await readPass({ ...opts, decided: undefined }, again);
    bytesRead += next.bytesRead;
    for (const w of next.wanted) wanted.add(w);
    const merged = new Map(entries);
    for (const [p, e] of next.entries) if (!merged.has(p) || (merged.get(p)?.kind === 'unreadable' && again.includes(`/${p}`))) merged.set(p, e);
    entries = merged;
  }
  const complete = first.complete;
  const { wanted: _, ...result } = first;
  const found = entries;
  return { ...result, entries: asText(found), bytesRead, lookup: (path) => lookupIn(found, wanted, complete, path) };
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

/** One top-down pass for `paths` (names as bytes). */
async function readPass(opts: ReadFilesOptions, paths: readonly string[]): Promise<ReadFilesResult & { wanted: ReadonlySet<string> }> {
  const t = createTracker(paths);
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
