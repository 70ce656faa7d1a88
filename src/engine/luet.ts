/**
 * The luet adapter: `luet util unpack IMAGE DIR` — what Kairos' docs tell people to run to get the
 * Raspberry Pi disk images — through execa when `luet` is on PATH, otherwise the same command in
 * the `quay.io/luet/base` container through the Docker engine. kairos-img's native path is the
 * default; this exists for parity with the documented workflow. Whatever it produces is verified
 * by the caller exactly as the native path is (src/artifacts). luet gained `--platform` late, so
 * the flag is passed only when `luet util unpack --help` mentions it.
 */
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { execaPackage } from '../lazy-packages.js';
import { interrupted, isAbortError, isKairosImgError, KairosImgError } from '../errors.js';
import { runLuetInDocker, dockerLuetCommand, LUET_IMAGE } from './luet-docker.js';

export { dockerLuetCommand, dockerLuetCreateOptions, LUET_IMAGE } from './luet-docker.js';

export type LuetEngine = 'luet' | 'docker';

export interface LuetUnpackOptions {
  /** A full image reference luet can pull (`registry/repository:tag`). */
  image: string;
  /** Directory to unpack into (created by luet; absolute). */
  dir: string;
  /** `linux/arm64`; passed only when the luet version supports `--platform`. */
  platform?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
  /** Force one engine instead of luet-then-docker. */
  engine?: LuetEngine | undefined;
  log?: ((line: string) => void) | undefined;
}

export interface LuetUnpackResult {
  engine: LuetEngine;
  /** The command that ran, for the report (argv form). */
  command: string[];
}

/** argv of `luet util unpack`, pure. */
export function luetUnpackArgs(opts: { image: string; dir: string; platform?: string | undefined; platformFlag: boolean }): string[] {
  return ['util', 'unpack', ...(opts.platformFlag && opts.platform !== undefined ? ['--platform', opts.platform] : []), opts.image, opts.dir];
}

/** Whether `luet util unpack --help` output documents `--platform`. */
export function helpMentionsPlatform(help: string): boolean {
  return /(^|\s)--platform\b/m.test(help);
}

/** The executable `name` on PATH, like `command -v`, or undefined. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The error when neither luet nor a Docker engine can run the unpack, naming both. */
export function luetUnavailable(opts: { dockerProblem: string }): KairosImgError {
  return new KairosImgError('LUET_UNAVAILABLE', `--via luet needs \`luet\` on PATH or a Docker engine to run ${LUET_IMAGE}; luet is not on PATH and ${opts.dockerProblem}`, {
    hint: 'install luet (https://luet.io), or start Docker (or set DOCKER_HOST), or drop --via luet to use kairos-img\'s own extraction',
  });
}

function luetFailed(command: string[], e: unknown): KairosImgError {
  const stderr = (e as { stderr?: unknown }).stderr;
  const exit = (e as { exitCode?: unknown }).exitCode;
  const why = typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim().split('\n').slice(-5).join('\n') : e instanceof Error ? e.message : String(e);
  return new KairosImgError('LUET_FAILED', `\`${command.join(' ')}\` failed${typeof exit === 'number' ? ` (exit ${exit})` : ''}: ${why}`, {
    hint: 'luet reads no Docker credentials and pulls over HTTPS unless the registry is local; try without --via luet',
    cause: e,
  });
}

export async function luetUnpack(opts: LuetUnpackOptions): Promise<LuetUnpackResult> {
  const env = opts.env ?? process.env;
  opts.signal?.throwIfAborted();
  const luet = opts.engine === 'docker' ? undefined : await findOnPath('luet', env);
  if (luet !== undefined) {
    const { execa } = await execaPackage();
    const help = await execa(luet, ['util', 'unpack', '--help'], { env, reject: false, all: true, ...(opts.signal ? { cancelSignal: opts.signal } : {}) });
    const args = luetUnpackArgs({ image: opts.image, dir: opts.dir, platform: opts.platform, platformFlag: helpMentionsPlatform(help.all ?? '') });
    const command = ['luet', ...args];
    opts.log?.(`running ${command.join(' ')}`);
    try {
      await execa(luet, args, { env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', ...(opts.signal ? { cancelSignal: opts.signal } : {}) });
    } catch (e) {
      if (opts.signal?.aborted === true || isAbortError(e)) throw interrupted();
      throw luetFailed(command, e);
    }
    return { engine: 'luet', command };
  }
  if (opts.engine === 'luet') throw luetUnavailable({ dockerProblem: 'the luet engine was requested' });
  try {
    await runLuetInDocker({ image: opts.image, dir: opts.dir, platform: opts.platform, env, signal: opts.signal, log: opts.log });
  } catch (e) {
    if (isKairosImgError(e) && e.code === 'ENGINE_UNREACHABLE') throw luetUnavailable({ dockerProblem: e.message });
    throw e;
  }
  return { engine: 'docker', command: dockerLuetCommand({ image: opts.image, dir: opts.dir, platform: opts.platform }) };
}
