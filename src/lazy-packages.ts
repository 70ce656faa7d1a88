/**
 * Packages that most runs never touch, loaded (synchronously, through `require`: each is CommonJS
 * or ships a CommonJS build) the first time they are needed instead of at start-up. A pull from a
 * full reference with no configuration file reads no YAML, writes no tar and decodes no zstd in
 * JavaScript, yet loading yaml, tar-stream and fzstd up front cost it 3–6 MB of RSS and ~35 ms
 * of start-up (measured after the CLI's own modules). (execa has its own lazy loader in subprocess.ts: it is ESM-only.)
 */
import { createRequire } from 'node:module';
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
