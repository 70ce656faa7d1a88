/**
 * What an image's release files say, pure: the Kairos release keys (by era, docs/kairos-images.md) and the
 * upstream distribution's release. Kairos-specific, so no library knows it.
 *
 *   v1.0 – v2.0.0   `/etc/os-release` overwritten: VERSION, FLAVOR, VARIANT, IMAGE_LABEL, ID=kairos, …
 *   v2.0.1 –        `KAIROS_`-prefixed keys appended to the distribution's `/etc/os-release`
 *   v3.2.2 –        the `KAIROS_` keys in `/etc/kairos-release`
 *
 * The upstream release comes from the distribution's own `/usr/lib/os-release` (ID, VERSION_ID),
 * else `/etc/alpine-release`, else the distribution keys left in `/etc/os-release`.
 */
import { semverPackage as semver } from '../lazy-packages.js';
import { parseOsRelease } from './os-release.js';

export const KAIROS_RELEASE = '/etc/kairos-release';
export const OS_RELEASE = '/etc/os-release';
export const USR_OS_RELEASE = '/usr/lib/os-release';
export const ALPINE_RELEASE = '/etc/alpine-release';

/** The files `verify` reads, in the order they are looked for. */
export const RELEASE_FILES: readonly string[] = [KAIROS_RELEASE, OS_RELEASE, USR_OS_RELEASE, ALPINE_RELEASE];

/** A file as the image holds it (symlinks followed); `unknown` until the layers that decide it were read. */
export type ReleaseFile =
  | { readonly state: 'present'; readonly text: string; /** Where the content was found, after symlinks. */ readonly path: string }
  | { readonly state: 'absent' }
  | { readonly state: 'unknown'; readonly reason?: string | undefined };

export type ReleaseFiles = Readonly<Record<string, ReleaseFile | undefined>>;

export type KairosKeysEra = 'v1-os-release' | 'v2-kairos-keys' | 'v3-kairos-release';

const KAIROS_KEYS_SINCE = '2.0.1';
const KAIROS_RELEASE_SINCE = '3.2.2';

/** Where a Kairos version keeps its release keys. */
export function kairosKeysEra(version: string): KairosKeysEra {
  const v = version.replace(/^v/, '');
  if (semver().lt(v, KAIROS_KEYS_SINCE)) return 'v1-os-release';
  if (semver().lt(v, KAIROS_RELEASE_SINCE)) return 'v2-kairos-keys';
  return 'v3-kairos-release';
}

export function describeKeysEra(era: KairosKeysEra): string {
  switch (era) {
    case 'v1-os-release': return `unprefixed keys in ${OS_RELEASE} (before v${KAIROS_KEYS_SINCE})`;
    case 'v2-kairos-keys': return `KAIROS_ keys in ${OS_RELEASE} (v${KAIROS_KEYS_SINCE} – v${KAIROS_RELEASE_SINCE})`;
    case 'v3-kairos-release': return `KAIROS_ keys in ${KAIROS_RELEASE} (from v${KAIROS_RELEASE_SINCE})`;
  }
}

/** One Kairos release key as found: its name (for messages) and value. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface KairosKeys {
  readonly file: string;
  readonly era: KairosKeysEra;
  readonly version?: KeyValue | undefined;
  readonly flavor?: KeyValue | undefined;
  readonly variant?: KeyValue | undefined;
  readonly label?: KeyValue | undefined;
  /** v2.5.0+ */
  readonly flavorRelease?: KeyValue | undefined;
  readonly arch?: KeyValue | undefined;
  readonly model?: KeyValue | undefined;
}

function present(files: ReleaseFiles, path: string): { text: string; path: string } | undefined {
  const f = files[path];
  return f?.state === 'present' ? f : undefined;
}

function pick(values: ReadonlyMap<string, string>, key: string): KeyValue | undefined {
  const value = values.get(key);
  return value === undefined || value === '' ? undefined : { key, value };
}

function prefixed(file: string, era: KairosKeysEra, values: ReadonlyMap<string, string>): KairosKeys {
  return {
    file,
    era,
    version: pick(values, 'KAIROS_VERSION'),
    flavor: pick(values, 'KAIROS_FLAVOR'),
    variant: pick(values, 'KAIROS_VARIANT'),
    label: pick(values, 'KAIROS_IMAGE_LABEL'),
    flavorRelease: pick(values, 'KAIROS_FLAVOR_RELEASE'),
    arch: pick(values, 'KAIROS_TARGETARCH'),
    model: pick(values, 'KAIROS_MODEL'),
  };
}

/**
 * The Kairos release keys of an image, wherever its era put them (the newest place first), or
 * undefined when no file carries any.
 */
export function kairosKeys(files: ReleaseFiles): KairosKeys | undefined {
  const kr = present(files, KAIROS_RELEASE);
  if (kr !== undefined) {
    const values = parseOsRelease(kr.text).values;
    if ([...values.keys()].some((k) => k.startsWith('KAIROS_'))) return prefixed(KAIROS_RELEASE, 'v3-kairos-release', values);
  }
  const os = present(files, OS_RELEASE);
  if (os === undefined) return undefined;
  const values = parseOsRelease(os.text).values;
  if ([...values.keys()].some((k) => k.startsWith('KAIROS_'))) return prefixed(OS_RELEASE, 'v2-kairos-keys', values);
  // v1 overwrote the distribution's file: ID=kairos and the Kairos keys without a prefix.
  if (values.get('ID') === 'kairos' || values.has('IMAGE_LABEL') || values.has('FLAVOR')) {
    return {
      file: OS_RELEASE,
      era: 'v1-os-release',
      version: pick(values, 'VERSION'),
      flavor: pick(values, 'FLAVOR'),
      variant: pick(values, 'VARIANT'),
      label: pick(values, 'IMAGE_LABEL'),
    };
  }
  return undefined;
}

export interface UpstreamRelease {
  /** os-release ID, e.g. `ubuntu`, `opensuse-leap`, `alpine`. */
  readonly id: string;
  /** e.g. `22.04`, `15.4`, `3.18.4`; empty when the file has none (rolling releases). */
  readonly versionId: string;
  readonly name?: string | undefined;
  readonly file: string;
}

function fromOsRelease(file: string, text: string): UpstreamRelease | undefined {
  const values = parseOsRelease(text).values;
  const id = values.get('ID');
  if (id === undefined || id === 'kairos') return undefined;
  return { id, versionId: values.get('VERSION_ID') ?? '', name: values.get('PRETTY_NAME') ?? values.get('NAME'), file };
}

/** The upstream distribution the image is built on, from its own release files. */
export function upstreamRelease(files: ReleaseFiles): UpstreamRelease | undefined {
  const usr = present(files, USR_OS_RELEASE);
  const fromUsr = usr === undefined ? undefined : fromOsRelease(USR_OS_RELEASE, usr.text);
  if (fromUsr !== undefined) return fromUsr;
  const alpine = present(files, ALPINE_RELEASE);
  const version = alpine?.text.trim().split(/\s+/)[0];
  if (version !== undefined && version !== '') return { id: 'alpine', versionId: version, name: `Alpine Linux ${version}`, file: ALPINE_RELEASE };
  const os = present(files, OS_RELEASE);
  return os === undefined ? undefined : fromOsRelease(OS_RELEASE, os.text);
}

function known(files: ReleaseFiles, path: string): boolean {
  const f = files[path];
  return f !== undefined && f.state !== 'unknown';
}

/**
 * True once the files read so far decide both the Kairos keys and the upstream release, so that
 * lower layers need not be read. `version` is the tag's Kairos version (it says which file holds
 * the keys); without one, both candidate files must be decided.
 */
export function releaseFilesDecided(files: ReleaseFiles, version?: string): boolean {
  const era = version === undefined ? undefined : kairosKeysEra(version);
  const kairosDecided =
    era === 'v3-kairos-release' ? known(files, KAIROS_RELEASE)
      : era !== undefined ? known(files, OS_RELEASE)
        : known(files, KAIROS_RELEASE) && known(files, OS_RELEASE);
  if (!kairosDecided) return false;
  if (!known(files, USR_OS_RELEASE)) return false;
  const usr = present(files, USR_OS_RELEASE);
  if (usr !== undefined && fromOsRelease(USR_OS_RELEASE, usr.text) !== undefined) return true;
  // No usable /usr/lib/os-release: the upstream comes from /etc/alpine-release or /etc/os-release.
  return known(files, ALPINE_RELEASE) && known(files, OS_RELEASE);
}
