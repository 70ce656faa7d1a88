/**
 * The Docker engine adapter (dockerode): connect and ping with a clear error when no engine
 * answers, export a container's filesystem for `unpack --via docker`, and the entry points of the
 * engine pull (docker-pull.ts) and the cache load (docker-load.ts, docker-archive.ts).
 * Thin on purpose: the engine does the work; this module says what went wrong in our words.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { interrupted, isAbortError, KairosImgError } from '../errors.js';
import { unpackTarStreams, type UnpackReport } from '../unpack/index.js';
import { engineAddress, type EngineAddress } from './docker-host.js';

export { engineAddress, DEFAULT_DOCKER_SOCKET } from './docker-host.js';
export type { EngineAddress } from './docker-host.js';
export { authConfigFor, engineImageName, enginePullError, inspectImage, pullIntoEngine, registryAuthConfig } from './docker-pull.js';
export type { DockerAuthConfig, EnginePullOptions, EnginePullResult, ImageFacts } from './docker-pull.js';
export { assertCached, dockerArchiveManifest, dockerArchiveStream } from './docker-archive.js';
export type { DockerArchiveOptions, DockerArchiveManifestEntry } from './docker-archive.js';
export { findCachedImage, loadCachedImage, loadIntoEngine, parseLoadResponse } from './docker-load.js';
export type { CachedImage, LoadCachedImageOptions, LoadCachedImageResult, LoadResult } from './docker-load.js';
export { saveImage } from './docker-save.js';
export type { SaveImageOptions } from './docker-save.js';
export { applyPullMessage, layerProgressId, parsePullMessage, pullProgressState } from './docker-progress.js';
export type { LayerPhase, LayerProgress, PullMessage, PullProgressState } from './docker-progress.js';

export interface EngineConnection {
  docker: Docker;
  address: EngineAddress;
  /** Engine version and API version from the ping/version call. */
  version: string;
  apiVersion: string;
}

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
  /** How long the ping may take before the engine is declared unreachable (default 15 s). */
  timeoutMs?: number | undefined;
}

function dockerOptions(address: EngineAddress): Docker.DockerOptions {
  if (address.kind === 'unix') return { socketPath: address.socketPath };
  if (!address.tls) return { host: address.host, port: address.port, protocol: 'http' };
  const read = (name: string): Buffer => {
    const file = path.join(address.certPath ?? '', name);
    try {
      return readFileSync(file);
    } catch (e) {
      throw new KairosImgError('ENGINE_TLS_CERT', `cannot read ${file} for the TLS connection to ${address.display}: ${(e as Error).message}`, {
        hint: 'set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem, or unset DOCKER_TLS_VERIFY',
      });
    }
  };
  return { host: address.host, port: address.port, protocol: 'https', ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

/** The one error for "no engine answers", naming the address tried and how to choose another. */
export function engineUnreachable(address: EngineAddress, cause: unknown): KairosImgError {
  const code = (cause as { code?: unknown } | undefined)?.code;
  const why =
    code === 'ENOENT' ? 'no such socket'
      : code === 'ECONNREFUSED' ? 'connection refused'
        : code === 'EACCES' ? 'permission denied'
          : code === 'ETIMEDOUT' || (cause as Error | undefined)?.name === 'TimeoutError' ? 'no answer in time'
            : cause instanceof Error ? cause.message : String(cause);
  const where = address.fromEnv ? `${address.display} (from DOCKER_HOST)` : `the default socket ${address.display} (DOCKER_HOST is not set)`;
  const hint = code === 'EACCES'
    ? `run as a user in the docker group, or point DOCKER_HOST at an engine you may use`
    : `start the Docker engine, or set DOCKER_HOST to where it listens, e.g. DOCKER_HOST=unix:///run/user/$UID/docker.sock or DOCKER_HOST=tcp://HOST:2375`;
  return new KairosImgError('ENGINE_UNREACHABLE', `no Docker engine answers at ${where}: ${why}`, {
    hint, cause, details: { dockerHost: address.display },
  });
}

/** Connects to the engine DOCKER_HOST names (or the default socket) and pings it. */
export async function connectDocker(opts: ConnectOptions = {}): Promise<EngineConnection> {
  const address = engineAddress(opts.env ?? process.env);
  opts.signal?.throwIfAborted();
  // Loaded on first use: dockerode (and ssh2, protobufjs under it) costs ~120 ms of start-up
  // that commands without an engine should not pay.
  const { default: DockerClient } = await import('dockerode');
  const docker = new DockerClient(dockerOptions(address));
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 15_000);
  const signal = opts.signal === undefined ? timeout : AbortSignal.any([opts.signal, timeout]);
  try {
    // dockerode accepts an abortSignal option here; its type declarations do not say so.
    const version = docker.version.bind(docker) as unknown as (o: { abortSignal: AbortSignal }) => Promise<Docker.DockerVersion>;
    const v = await version({ abortSignal: signal });
    return { docker, address, version: v.Version ?? 'unknown', apiVersion: v.ApiVersion ?? 'unknown' };
  } catch (e) {
    if (opts.signal?.aborted === true) throw interrupted();
    throw engineUnreachable(address, timeout.aborted ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : e);
  }
}

export interface ExportFilesystemOptions {
  docker: Docker;
  /** An image the engine has (name, name:tag, name@digest or image ID). */
  reference: string;
  /** `linux/amd64`: must match the image when given. */
  platform?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface ContainerExport {
  /** The container filesystem as one plain tar stream. */
  stream: Readable;
  /** Removes the container; idempotent; never throws for a container already gone. */
  cleanup(): Promise<void>;
}

async function removeContainer(container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (e) {
    const status = (e as { statusCode?: unknown }).statusCode;
    if (status === 404 || status === 409) return; // gone already, or removal in progress
    throw new KairosImgError('ENGINE_CLEANUP_FAILED', `could not remove the temporary container ${container.id.slice(0, 12)}: ${(e as Error).message}`, {
      hint: `remove it with: docker rm -f ${container.id.slice(0, 12)}`,
    });
  }
}

/**
 * Creates a container from the image without starting it and exports its filesystem. The
 * container is removed by `cleanup()`, on abort, and when anything before the stream fails.
 */
export async function exportContainerFilesystem(opts: ExportFilesystemOptions): Promise<ContainerExport> {
  opts.signal?.throwIfAborted();
  const aborted = (): boolean => opts.signal?.aborted === true;
  let container: Docker.Container;
  try {
    // No abort signal on the create request: the engine would still create a container for a
    // request we stopped waiting for, and we would not know its ID to remove it. It is quick.
    container = await opts.docker.createContainer({
      // The container never starts: the command only satisfies images that have none.
      _query: opts.platform === undefined ? {} : { platform: opts.platform },
      _body: { Image: opts.reference, Cmd: ['/kairos-img-export'], Labels: { 'io.kairos-img.purpose': 'filesystem-export' }, NetworkDisabled: true },
    } as never);
  } catch (e) {
    if (aborted() || isAbortError(e)) throw interrupted();
    const status = (e as { statusCode?: unknown }).statusCode;
    if (status === 404) {
      throw new KairosImgError('ENGINE_IMAGE_MISSING', `the Docker engine has no image ${opts.reference}${opts.platform === undefined ? '' : ` for ${opts.platform}`}`, {
        hint: `pull it into the engine first: kairos-img pull ${opts.reference} --to docker`,
      });
    }
    throw new KairosImgError('ENGINE_CREATE_FAILED', `the Docker engine could not create a container from ${opts.reference}: ${engineMessage(e)}`, { cause: e });
  }
  let removed: Promise<void> | undefined;
  const cleanup = (): Promise<void> => (removed ??= removeContainer(container));
  if (aborted()) {
    await cleanup();
    throw interrupted();
  }
  const onAbort = (): void => { void cleanup().catch(() => undefined); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const raw = (await container.export({ abortSignal: opts.signal } as object)) as unknown as Readable;
    if (aborted()) {
      raw.destroy();
      throw interrupted();
    }
    opts.signal?.addEventListener('abort', () => raw.destroy(interrupted()), { once: true });
    return {
      stream: raw,
      cleanup: async () => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (!raw.destroyed) raw.destroy();
        await cleanup();
      },
    };
  } catch (e) {
    opts.signal?.removeEventListener('abort', onAbort);
    await cleanup().catch(() => undefined);
    if (aborted() || isAbortError(e)) throw interrupted();
    throw new KairosImgError('ENGINE_EXPORT_FAILED', `the Docker engine could not export the filesystem of ${opts.reference}: ${engineMessage(e)}`, { cause: e });
  }
}

export interface UnpackViaDockerOptions extends ExportFilesystemOptions {
  dir: string;
  force?: boolean | undefined;
  preserveOwners?: boolean | undefined;
  onProgress?: ((e: { bytes: number; entries: number }) => void) | undefined;
}

/**
 * `unpack --via docker`: the container export through the same safe, atomic writer as the
 * native unpack (no whiteouts: an export is a flattened filesystem).
 */
export async function unpackViaDocker(opts: UnpackViaDockerOptions): Promise<UnpackReport> {
  const exported = await exportContainerFilesystem(opts);
  try {
    return await unpackTarStreams({
      dir: opts.dir,
      streams: [exported.stream],
      whiteouts: false,
      ...(opts.force === undefined ? {} : { force: opts.force }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      ...(opts.preserveOwners === undefined ? {} : { preserveOwners: opts.preserveOwners }),
      ...(opts.onProgress === undefined ? {} : { onProgress: (e: { bytes: number; entries: number }) => opts.onProgress?.(e) }),
    });
  } finally {
    await exported.cleanup();
  }
}

/** The engine's own message out of a dockerode error (its JSON body's `message`). */
export function engineMessage(e: unknown): string {
  const json = (e as { json?: unknown }).json;
  if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  if (Buffer.isBuffer(json)) return json.toString('utf8').trim();
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  return e instanceof Error ? e.message : String(e);
}
