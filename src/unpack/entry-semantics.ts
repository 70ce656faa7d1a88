/**
 * What one tar entry does to the tree, pure: its kind, its metadata, whether it merges with,
 * replaces or creates what is on disk, and which lower-layer content a whiteout or opaque marker
 * removes. The I/O edge (apply-layer.ts) asks these questions and performs the answers.
 */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo';

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
  /** PAX `SCHILY.xattr.<name>` records: the name as bytes (latin1), the value as bytes. */
  xattrs: Array<{ name: string; value: Buffer }>;
}

/** What the header and its PAX records (global and local, merged) say about an entry. */
export interface MetaSource {
  mode?: number | undefined;
  uid?: number | undefined;
  gid?: number | undefined;
  /** Seconds since the epoch. */
  mtime?: number | undefined;
  pax?: ReadonlyMap<string, Buffer> | undefined;
}

/** Reports a value that was ignored or clamped (`kind` groups repeats). */
export type MetaWarning = (kind: string, text: string) => void;

const XATTR_PAX_PREFIX = 'SCHILY.xattr.';
/** uid_t/gid_t: 0 … 2^32-2 (2^32-1 is chown's "leave unchanged"). */
const MAX_ID = 0xfffffffe;
/** Times the kernel and Node's utimes accept (a 64-bit time_t, kept to what a double holds exactly). */
const MAX_TIME = 2 ** 62;

const PAX_INTEGER = /^-?[0-9]+$/;
const PAX_TIME = /^-?[0-9]+(\.[0-9]+)?$/;

function paxValue(pax: ReadonlyMap<string, Buffer> | undefined, key: string, form: RegExp, warn: MetaWarning | undefined): number | undefined {
  const raw = pax?.get(key);
  if (raw === undefined) return undefined;
  const text = raw.toString('latin1', 0, raw.length);
  if (!form.test(text)) {
    warn?.(`pax-${key}`, `PAX ${key} "${text.slice(0, 40)}" is not a valid value; the header's is used`);
    return undefined;
  }
  return Number(text);
}

function clamp(value: number, min: number, max: number, what: string, warn: MetaWarning | undefined): number {
  if (value >= min && value <= max) return value;
  const to = value < min ? min : max;
  warn?.(`range-${what}`, `${what} ${value} is out of range; ${to} is used`);
  return to;
}

export function entryMeta(header: MetaSource, kind: EntryKind, warn?: MetaWarning): EntryMeta {
  const defaultMode = kind === 'dir' ? 0o755 : 0o644;
  const mode = (header.mode ?? defaultMode) & 0o7777;
  // PAX values win over the ustar fields: they carry ids above 2^21 and sub-second times.
  const uid = clamp(paxValue(header.pax, 'uid', PAX_INTEGER, warn) ?? header.uid ?? 0, 0, MAX_ID, 'uid', warn);
  const gid = clamp(paxValue(header.pax, 'gid', PAX_INTEGER, warn) ?? header.gid ?? 0, 0, MAX_ID, 'gid', warn);
  const mtime = clamp(paxValue(header.pax, 'mtime', PAX_TIME, warn) ?? header.mtime ?? 0, -MAX_TIME, MAX_TIME, 'mtime', warn);
  const atime = clamp(paxValue(header.pax, 'atime', PAX_TIME, warn) ?? mtime, -MAX_TIME, MAX_TIME, 'atime', warn);
  const xattrs: EntryMeta['xattrs'] = [];
  for (const [key, value] of header.pax ?? []) {
    if (key.startsWith(XATTR_PAX_PREFIX) && key.length > XATTR_PAX_PREFIX.length) {
      xattrs.push({ name: key.slice(XATTR_PAX_PREFIX.length), value });
    }
  }
  return { mode, uid, gid, mtime, atime, xattrs };
}

/**
 * Attributes that describe the host, not the image: never restored (umoci and GNU tar skip
 * SELinux labels too; the target's policy labels the tree).
 */
export function isHostOnlyXattr(name: string): boolean {
  return name === 'security.selinux';
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
