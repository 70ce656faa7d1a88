/**
 * Packages that most runs never touch, loaded the first time they are needed instead of at
 * start-up. A pull from a full reference with no configuration file reads no YAML, writes no tar,
 * decodes no zstd in JavaScript and compares no versions, yet loading yaml, tar-stream, fzstd and
 * semver up front cost it ~12 MB of RSS and ~50 ms of start-up (measured after the CLI's own
 * modules; semver alone, which loads all of its ~50 files, 6–8 MB). Those four are CommonJS (or
 * ship a CommonJS build) and come through `require`, synchronously. execa is ESM-only, so it
 * comes through `import()`: it costs ~70 ms and 8 MB, and only credential helpers, zstd/xz,
 * mknod/setfattr and luet start a program. (listr2 is loaded the same way by the task list, and
 * only when progress is shown.)
 */
import { createRequire } from 'node:module';
import type * as Execa from 'execa';
import type * as Yaml from 'yaml';
import type TarStream from 'tar-stream';
import type * as Fzstd from 'fzstd';
import type * as Semver from 'semver';

const require = createRequire(import.meta.url);

export function yamlPackage(): typeof Yaml {
  return require('yaml') as typeof Yaml;
}

export function tarStreamPackage(): typeof TarStream {
  return require('tar-stream') as typeof TarStream;
}

export function fzstdPackage(): typeof Fzstd {
  return require('fzstd') as typeof Fzstd;
}

/** Version comparisons: the policy, the catalogs' validation, the mirror's tag filters — not a pull of a full reference. */
export function semverPackage(): typeof Semver {
  return require('semver') as typeof Semver;
}

let execa: Promise<typeof Execa> | undefined;

export function execaPackage(): Promise<typeof Execa> {
  execa ??= import('execa');
  return execa;
}
