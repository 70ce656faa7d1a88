/**
 * What one tar entry does to the tree, pure: its kind, its metadata, whether it merges with,
 * replaces or creates what is on disk, and which lower-layer content a whiteout or opaque marker
 * removes. The I/O edge (apply-layer.ts) asks these questions and performs the answers.
 */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo';

/** tar-stream's header type → what we create; undefined for types with no filesystem meaning. */
export function entryKindOf(tarType: string | null | undefined): EntryKind | undefined {
  switch (tarType ?? 'file') {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'dir';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    case 'character-device':
      return 'char-device';
    case 'block-device':
      return 'block-device';
    case 'fifo':
      return 'fifo';
    default:
      return undefined;
  }
}

export type ExistingKind = 'none' | 'dir' | 'other';
export type Placement = 'create' | 'merge-dir' | 'replace';

/**
 * A directory entry over a directory merges (lower content stays, metadata is updated); anything
 * else over an existing entry replaces it — a file over a directory removes the subtree, a directory
 * over a file or symlink removes that first (never following the symlink: node-tar CVE-2021-32803).
 */
export function placementFor(existing: ExistingKind, kind: EntryKind): Placement {
  if (existing === 'none') return 'create';
  if (existing === 'dir' && kind === 'dir') return 'merge-dir';
  return 'replace';
}

export interface EntryMeta {
  /** Permission bits including setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, fractional when PAX carries it. */
  mtime: number;
  atime: number;
  /** PAX `SCHILY.xattr.<name>` values as the tar reader decoded them (UTF-8). */
  xattrs: Array<{ name: string; value: string }>;
}

export interface RawHeader {
  mode?: number | undefined;
  uid?: number | undefined;
  gid?: number | undefined;
  mtime?: Date | undefined;
  pax?: Record<string, string> | null | undefined;
}

const XATTR_PAX_PREFIX = 'SCHILY.xattr.';

function paxNumber(pax: Record<string, string> | null | undefined, key: string): number | undefined {
  const raw = pax?.[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

export function entryMeta(header: RawHeader, kind: EntryKind): EntryMeta {
  const defaultMode = kind === 'dir' ? 0o755 : 0o644;
  const mode = (header.mode ?? defaultMode) & 0o7777;
  // PAX values win over the ustar fields: they carry ids above 2^21 and sub-second times.
  const uid = paxNumber(header.pax, 'uid') ?? header.uid ?? 0;
  const gid = paxNumber(header.pax, 'gid') ?? header.gid ?? 0;
  const mtime = paxNumber(header.pax, 'mtime') ?? (header.mtime ? header.mtime.getTime() / 1000 : 0);
  const atime = paxNumber(header.pax, 'atime') ?? mtime;
  const xattrs: EntryMeta['xattrs'] = [];
  for (const [key, value] of Object.entries(header.pax ?? {})) {
    if (key.startsWith(XATTR_PAX_PREFIX) && key.length > XATTR_PAX_PREFIX.length) {
      xattrs.push({ name: key.slice(XATTR_PAX_PREFIX.length), value });
    }
  }
  return { mode, uid, gid, mtime, atime, xattrs };
}

/** Unprivileged processes may only set `user.*` attributes. */
export function isPrivilegedXattr(name: string): boolean {
  return !name.startsWith('user.');
}

/**
 * Paths this layer has put on disk so far (entries and their ancestors). The OCI spec says a
 * whiteout or opaque marker only hides lower layers, whatever its position in the tar, so content
 * in this set survives them.
 */
export type LayerPaths = ReadonlySet<string>;

export type WhiteoutAction = 'remove' | 'clear-lower-content' | 'keep';

/**
 * `.wh.x` removes x — unless this layer itself already put x there: then a directory keeps this
 * layer's content and loses only the lower one, and a non-directory is kept.
 */
export function whiteoutAction(target: string, existing: ExistingKind, layerPaths: LayerPaths): WhiteoutAction {
  if (existing === 'none') return 'keep';
  if (!layerPaths.has(target)) return 'remove';
  return existing === 'dir' ? 'clear-lower-content' : 'keep';
}

/**
 * For an opaque directory (or a whiteout of a directory this layer populated): a child survives
 * when this layer put it there; a surviving directory is then cleared the same way, recursively.
 */
export function childSurvivesOpaque(childPath: string, layerPaths: LayerPaths): boolean {
  return layerPaths.has(childPath);
}
