/**
 * What changes between two Kairos images, from the few files `diff` reads out of each: release
 * keys (/etc/kairos-release, the KAIROS_ keys of /etc/os-release), the distribution's os-release,
 * the kernel (/lib/modules, /usr/lib/modules children; the /boot/vmlinuz link), the Kubernetes
 * distribution's version, and the installed packages. Pure.
 *
 * Package databases, hand-read because their formats are tiny and no npm package parses them
 * from bytes (the ones that exist shell out to dpkg-query/apk or read the host's database):
 * - dpkg `/var/lib/dpkg/status` (deb-control(5) paragraphs: Package, Version, Status; a package
 *   counts when its Status ends in "installed"; continuation lines start with a space);
 * - apk `/lib/apk/db/installed` (records of `X:value` lines, P: name, V: version, blank-line separated).
 * - rpm (`/var/lib/rpm/rpmdb.sqlite`, `Packages`, `Packages.db`, also under /usr/lib/sysimage/rpm):
 *   recognised, not read — its records are rpm header blobs inside SQLite, BerkeleyDB or NDB, and
 *   no maintained JavaScript library reads them; the system `rpm` could (`rpm --dbpath`), but is not
 *   a dependency of kairos-img. The report says so instead of guessing.
 */
import { parseOsRelease } from './os-release.js';

export type PackageFormat = 'dpkg' | 'apk' | 'rpm';

export interface PackageList {
  readonly format: PackageFormat;
  /** Where the database is in the image. */
  readonly path: string;
  /** name → version; undefined when the database was found but not read (rpm). */
  readonly packages?: Readonly<Record<string, string>> | undefined;
  readonly note?: string | undefined;
}

/** dpkg's status file → installed packages (name, or name:arch when a name is installed for several arches). */
export function parseDpkgStatus(text: string): Record<string, string> {
  const found: Array<{ name: string; arch?: string | undefined; version: string }> = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of paragraph.split('\n')) {
      if (line === '') continue;
      if (/^\s/.test(line)) {
        if (last !== undefined) fields.set(last, `${fields.get(last) ?? ''}\n${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).toLowerCase();
      fields.set(last, line.slice(colon + 1).trim());
    }
    const name = fields.get('package');
    const version = fields.get('version');
    const status = fields.get('status') ?? '';
    if (name === undefined || version === undefined || !/(?:^|\s)installed$/.test(status)) continue;
    found.push({ name, arch: fields.get('architecture'), version });
  }
  const count = new Map<string, number>();
  for (const p of found) count.set(p.name, (count.get(p.name) ?? 0) + 1);
  return Object.fromEntries(found.map((p) => [(count.get(p.name) ?? 0) > 1 && p.arch !== undefined ? `${p.name}:${p.arch}` : p.name, p.version]));
}

/** apk's installed database → packages. */
export function parseApkInstalled(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const record of text.split(/\n\s*\n/)) {
    let name: string | undefined;
    let version: string | undefined;
    for (const line of record.split('\n')) {
      if (line.startsWith('P:')) name = line.slice(2).trim();
      else if (line.startsWith('V:')) version = line.slice(2).trim();
    }
    if (name !== undefined && version !== undefined) out[name] = version;
  }
  return out;
}

/** The package databases `diff` looks for, in order (the first one present is the image's). */
export const PACKAGE_DATABASES: ReadonlyArray<{ readonly format: PackageFormat; readonly path: string }> = [
  { format: 'dpkg', path: '/var/lib/dpkg/status' },
  { format: 'apk', path: '/lib/apk/db/installed' },
  { format: 'rpm', path: '/var/lib/rpm/rpmdb.sqlite' },
  { format: 'rpm', path: '/usr/lib/sysimage/rpm/rpmdb.sqlite' },
  { format: 'rpm', path: '/var/lib/rpm/Packages.db' },
  { format: 'rpm', path: '/usr/lib/sysimage/rpm/Packages.db' },
  { format: 'rpm', path: '/var/lib/rpm/Packages' },
];

export const RPM_NOTE = 'rpm database found, not read: no maintained JavaScript library reads rpm headers (SQLite, BerkeleyDB or NDB), and kairos-img does not depend on the system rpm';

export function packageList(format: PackageFormat, path: string, text: string | undefined): PackageList {
  if (format === 'rpm' || text === undefined) return { format, path, note: format === 'rpm' ? RPM_NOTE : 'the database could not be read' };
  return { format, path, packages: format === 'dpkg' ? parseDpkgStatus(text) : parseApkInstalled(text) };
}

export interface KeyChange {
  readonly key: string;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

/** Keys added (no `from`), removed (no `to`) or changed, in key order. */
export function diffKeys(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): KeyChange[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => a[k] !== b[k]).map((k) => ({ key: k, ...(a[k] === undefined ? {} : { from: a[k] }), ...(b[k] === undefined ? {} : { to: b[k] }) }));
}

export interface PackageChanges {
  readonly added: ReadonlyArray<{ readonly name: string; readonly version: string }>;
  readonly removed: ReadonlyArray<{ readonly name: string; readonly version: string }>;
  readonly changed: ReadonlyArray<{ readonly name: string; readonly from: string; readonly to: string }>;
  readonly unchanged: number;
}

export function diffPackages(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): PackageChanges {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const added: Array<{ name: string; version: string }> = [];
  const removed: Array<{ name: string; version: string }> = [];
  const changed: Array<{ name: string; from: string; to: string }> = [];
  let unchanged = 0;
  for (const n of names) {
    const x = a[n];
    const y = b[n];
    if (x === undefined && y !== undefined) added.push({ name: n, version: y });
    else if (y === undefined && x !== undefined) removed.push({ name: n, version: x });
    else if (x !== y && x !== undefined && y !== undefined) changed.push({ name: n, from: x, to: y });
    else unchanged++;
  }
  return { added, removed, changed, unchanged };
}

/** The release keys of an image: /etc/kairos-release (v3.2.2+), else the KAIROS_ (or v1) keys of /etc/os-release. */
export function releaseKeysOf(files: { kairosRelease?: string | undefined; osRelease?: string | undefined }): { file: string; keys: Record<string, string> } | undefined {
  if (files.kairosRelease !== undefined) {
    const values = parseOsRelease(files.kairosRelease).values;
    if ([...values.keys()].some((k) => k.startsWith('KAIROS_'))) return { file: '/etc/kairos-release', keys: Object.fromEntries(values) };
  }
  if (files.osRelease === undefined) return undefined;
  const values = parseOsRelease(files.osRelease).values;
  const kairos = [...values].filter(([k]) => k.startsWith('KAIROS_'));
  if (kairos.length > 0) return { file: '/etc/os-release', keys: Object.fromEntries(kairos) };
  if (values.get('ID') === 'kairos') return { file: '/etc/os-release', keys: Object.fromEntries(values) };
  return undefined;
}

/** The distribution's own release keys (ID, VERSION_ID, …), without the Kairos ones. */
export function osKeysOf(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  return Object.fromEntries([...parseOsRelease(text).values].filter(([k]) => !k.startsWith('KAIROS_')));
}

/**
 * Kernel versions of an image: the children of /lib/modules (and /usr/lib/modules, merged-usr
 * distributions), else what /boot/vmlinuz links to (`vmlinuz-6.8.0-45-generic`).
 */
export function kernelVersions(modules: readonly string[], vmlinuzTarget: string | undefined): string[] {
  const fromModules = [...new Set(modules)].sort();
  if (fromModules.length > 0) return fromModules;
  const base = vmlinuzTarget?.slice(vmlinuzTarget.lastIndexOf('/') + 1);
  const m = base === undefined ? null : /^(?:vmlinuz|Image|bzImage)-(.+)$/.exec(base);
  return m?.[1] === undefined ? [] : [m[1]];
}
