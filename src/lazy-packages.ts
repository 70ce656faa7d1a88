/**
 * Packages that most runs never touch, loaded the first time they are needed instead of at
 * start-up. A pull from a full reference with no configuration file reads no YAML, writes no tar
 * and decodes no zstd in JavaScript, yet loading yaml, tar-stream and fzstd up front cost it 3–6 MB
 * of RSS and ~35 ms of start-up (measured after the CLI's own modules); those three are CommonJS
 * (or ship a CommonJS build) and come through `require`, synchronously. execa is ESM-only, so it
 * comes through `import()`: it costs ~70 ms and 8 MB, and only credential helpers, zstd/xz,
 * mknod/setfattr and luet start a program.
 */
import { createRequire } from 'node:module';
import type * as Execa from 'execa';
import type * as Yaml from 'yaml';
import type TarStream from 'tar-stream';
import type * as Fzstd from 'fzstd';

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

let execa: Promise<typeof Execa> | undefined;

export function execaPackage(): Promise<typeof Execa> {
  execa ??= import('execa');
  return execa;
}
