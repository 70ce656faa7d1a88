/**
 * `pull --to docker`: the engine pulls the image itself (POST /images/create), one platform only,
 * with the credentials our registry client would use sent as X-Registry-Auth. Its progress stream
 * is folded by docker-progress.ts; its failures become KairosImgErrors that say what to change.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { interrupted, isAbortError, KairosImgError } from '../errors.js';
import { responseLines } from './docker-stream.js';
import type { Reference } from '../reference/reference.js';
import type { CredentialSource, Credentials } from '../registry/credentials.js';
import { applyPullMessage, parsePullMessage, pullProgressState, type PullProgressState } from './docker-progress.js';

/** Docker's AuthConfig (the X-Registry-Auth payload). */
export interface DockerAuthConfig {
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  serveraddress: string;
}

/** Credentials → the engine's AuthConfig; undefined for anonymous access. Pure. */
export function authConfigFor(registry: string, creds: Credentials | undefined): DockerAuthConfig | undefined {
  if (creds === undefined) return undefined;
  if (creds.registryToken !== undefined) return { registrytoken: creds.registryToken, serveraddress: registry };
  if (creds.identityToken !== undefined) return { identitytoken: creds.identityToken, serveraddress: registry };
  if (creds.username !== undefined) return { username: creds.username, password: creds.password ?? '', serveraddress: registry };
  return undefined;
}

/** Looks the registry up in the same sources as the registry client (Docker config, helpers). */
export async function registryAuthConfig(source: CredentialSource, registry: string, signal?: AbortSignal): Promise<DockerAuthConfig | undefined> {
  const found = await source.lookup(registry, signal);
  return authConfigFor(registry, found.credentials);
}

export interface EnginePullOptions {
  docker: Docker;
  reference: Reference;
  /** `linux/amd64`: the engine pulls this platform only. */
  platform: string;
  credentials?: CredentialSource | undefined;
  signal?: AbortSignal | undefined;
  /** Every state change, with the id of the layer that changed (if any). */
  onProgress?: ((state: PullProgressState, layerId: string | undefined) => void) | undefined;
  /** Whether the user asked for plain HTTP (shapes the hint when the engine refuses it). */
  plainHttp?: boolean | undefined;
}

export interface EnginePullResult {
  /** The name the engine knows the image by (`registry/repository:tag` or `@digest`). */
  name: string;
  /** The image ID: the config digest. */
  imageId: string;
  repoDigests: string[];
  repoTags: string[];
  /** The registry digest the engine reported for the pull. */
  digest?: string | undefined;
  upToDate: boolean;
  architecture?: string | undefined;
  os?: string | undefined;
}

/** How the engine names a reference: `registry/repository` + `@digest` or `:tag`. */
export function engineImageName(ref: Reference): { repository: string; tagOrDigest: string; name: string } {
  const repository = `${ref.registry}/${ref.repository}`;
  if (ref.digest !== undefined) return { repository, tagOrDigest: ref.digest, name: `${repository}@${ref.digest}` };
  const tag = ref.tag ?? 'latest';
  return { repository, tagOrDigest: tag, name: `${repository}:${tag}` };
}

/** The engine's failure message → what the user should do about it. Pure. */
export function enginePullError(message: string, ctx: { reference: string; registry: string; platform: string; plainHttp?: boolean | undefined }): KairosImgError {
  const details = { reference: ctx.reference, engineMessage: message };
  if (/server gave HTTP response to HTTPS client/i.test(message)) {
    return new KairosImgError('ENGINE_REFUSES_HTTP', `the Docker engine refuses plain HTTP to ${ctx.registry}: ${message}`, {
      hint: `let the engine use HTTP for this registry: add "insecure-registries": ["${ctx.registry}"] to /etc/docker/daemon.json and restart it ` +
        `(registries on loopback, 127.0.0.0/8, are insecure by default)${ctx.plainHttp === true ? '' : ', or serve the registry over HTTPS'}`,
      details,
    });
  }
  if (/no matching manifest|does not match the specified platform|image with reference .* was found but does not match/i.test(message)) {
    return new KairosImgError('ENGINE_PLATFORM_MISSING', `${ctx.reference} has no image for ${ctx.platform}: ${message}`, {
      hint: 'choose another architecture with --arch', details,
    });
  }
  if (/unauthorized|authentication required|denied|no basic auth credentials|incorrect username or password/i.test(message)) {
    return new KairosImgError('ENGINE_UNAUTHORIZED', `the registry refused the engine's pull of ${ctx.reference}: ${message}`, {
      hint: `log in to ${ctx.registry} (docker login ${ctx.registry}); kairos-img passes the engine the credentials of your Docker config`, details,
    });
  }
  if (/manifest unknown|not found|does not exist|repository name not known/i.test(message)) {
    return new KairosImgError('ENGINE_IMAGE_NOT_FOUND', `the registry has no ${ctx.reference}: ${message}`, {
      hint: 'check the tag with: kairos-img tags <flavor> <variant>', details,
    });
  }
  return new KairosImgError('ENGINE_PULL_FAILED', `the Docker engine could not pull ${ctx.reference}: ${message}`, { details });
}

function errorMessage(e: unknown): string {
  const json = (e as { json?: unknown }).json;
  if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') return (json as { message: string }).message;
  return e instanceof Error ? e.message : String(e);
}

export async function pullIntoEngine(opts: EnginePullOptions): Promise<EnginePullResult> {
  const { docker, reference, signal } = opts;
  signal?.throwIfAborted();
  const img = engineImageName(reference);
  const ctx = { reference: img.name, registry: reference.registry, platform: opts.platform, plainHttp: opts.plainHttp };
  const auth = opts.credentials === undefined ? undefined : await registryAuthConfig(opts.credentials, reference.registry, signal);
  let stream: Readable;
  try {
    // Only defined keys: docker-modem turns every key into a query parameter.
    stream = (await docker.createImage({
      fromImage: img.repository,
      tag: img.tagOrDigest,
      platform: opts.platform,
      ...(auth === undefined ? {} : { authconfig: auth }),
      ...(signal === undefined ? {} : { abortSignal: signal }),
    })) as unknown as Readable;
  } catch (e) {
    if (signal?.aborted === true || isAbortError(e)) throw interrupted();
    throw enginePullError(errorMessage(e), ctx);
  }
  // Destroying the response closes the connection: the engine cancels a pull nobody waits for.
  const onAbort = (): void => { stream.destroy(); };
  signal?.addEventListener('abort', onAbort, { once: true });
  let state = pullProgressState();
  try {
    for await (const line of responseLines(stream)) {
      const msg = parsePullMessage(line);
      if (msg === undefined) continue;
      state = applyPullMessage(state, msg);
      if (state.error !== undefined) break;
      opts.onProgress?.(state, msg.id !== undefined && state.layers[msg.id] !== undefined ? msg.id : undefined);
    }
  } catch (e) {
    if (signal?.aborted === true || isAbortError(e)) throw interrupted();
    throw new KairosImgError('ENGINE_PULL_FAILED', `the connection to the Docker engine broke during the pull of ${img.name}: ${errorMessage(e)}`, { cause: e });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stream.destroy();
  }
  if (signal?.aborted === true) throw interrupted();
  if (state.error !== undefined) throw enginePullError(state.error, ctx);
  const info = await inspectImage(docker, img.name, signal);
  return { name: img.name, ...info, digest: state.digest, upToDate: state.upToDate };
}

export interface ImageFacts {
  imageId: string;
  repoDigests: string[];
  repoTags: string[];
  architecture?: string | undefined;
  os?: string | undefined;
}

export async function inspectImage(docker: Docker, name: string, signal?: AbortSignal): Promise<ImageFacts> {
  try {
    const info = await docker.getImage(name).inspect({ abortSignal: signal } as object);
    return { imageId: info.Id, repoDigests: info.RepoDigests ?? [], repoTags: info.RepoTags ?? [], architecture: info.Architecture, os: info.Os };
  } catch (e) {
    if (signal?.aborted === true || isAbortError(e)) throw interrupted();
    throw new KairosImgError('ENGINE_INSPECT_FAILED', `the Docker engine does not show ${name} after the pull: ${errorMessage(e)}`, { cause: e });
  }
}
