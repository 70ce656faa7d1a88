/** What every command receives: global options resolved against the environment, the abort signal, output streams. */
import path from 'node:path';
import { hostArch } from '../oci/index.js';
import { normalizeRegistryHost } from '../reference/reference.js';
import { defaultCacheDir } from '../store/layout.js';
import { makeStyle, useColor, type Style } from './render.js';

import type { ProgressMode } from './progress/runner.js';

export type { ProgressMode } from './progress/runner.js';

export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  debug?: boolean;
  registry?: string;
  plainHttp?: boolean;
  offline?: boolean;
  cacheDir?: string;
}

export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly debug: boolean;
  /** `--registry` / KAIROS_IMG_REGISTRY: replaces the catalog registry (quay.io). */
  readonly registry: string | undefined;
  readonly plainHttp: boolean;
  /** --offline / KAIROS_IMG_OFFLINE: mirrors only (and verify: the tag grammar only). */
  readonly offline: boolean;
  readonly cacheDir: string;
  readonly hostArch: string;
  readonly progress: ProgressMode;
  readonly style: Style;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** A line for a person, on stderr; silent under --quiet. */
  note(line: string): void;
}

export interface Io {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  signal: AbortSignal;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export function createContext(opts: GlobalOptions, io: Io): CliContext {
  // --offline reaches every registry client through the environment, as KAIROS_IMG_OFFLINE does.
  const env = opts.offline === true ? { ...io.env, KAIROS_IMG_OFFLINE: '1' } : io.env;
  const json = opts.json === true;
  const quiet = opts.quiet === true;
  const verbose = opts.verbose === true;
  const registryRaw = opts.registry ?? (env['KAIROS_IMG_REGISTRY'] === '' ? undefined : env['KAIROS_IMG_REGISTRY']);
  const registry = registryRaw === undefined ? undefined : normalizeRegistryHost(registryRaw);
  const plainHttp = opts.plainHttp === true || truthy(env['KAIROS_IMG_PLAIN_HTTP']);
  const errTTY = io.stderr.isTTY === true;
  const ci = truthy(env['CI']);
  const progress: ProgressMode = verbose ? 'verbose' : quiet ? 'silent' : !errTTY || ci ? 'plain' : 'tty';
  const style = makeStyle(useColor(env, io.stdout.isTTY === true));
  return {
    env,
    signal: io.signal,
    json,
    quiet,
    verbose,
    debug: opts.debug === true,
    registry,
    plainHttp,
    offline: truthy(env['KAIROS_IMG_OFFLINE']),
    cacheDir: opts.cacheDir === undefined ? defaultCacheDir(env) : path.resolve(opts.cacheDir),
    hostArch: hostArch(),
    progress,
    style,
    stdout: io.stdout,
    stderr: io.stderr,
    note: (line) => {
      if (!quiet) io.stderr.write(`${line}\n`);
    },
  };
}
