/** One registry client per command run, configured from the command's options and environment. */
import { endpointsFor, loadConfigSync, offlineFromEnv } from '../config/index.js';
import { createRegistryClient, dockerConfigCredentials, withMirrors, type ManifestResult, type RegistryClient, type RegistryEvent } from '../registry/index.js';
import { type Platform } from '../oci/index.js';
import { KairosImgError, isKairosImgError } from '../errors.js';
import { formatReference, repositoryName, type Reference } from '../reference/reference.js';
import { nearestTags } from '../policy/index.js';
import type { TagSource } from './resolve.js';

export interface ClientOptions {
  plainHttp?: boolean | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Request events (auth, retries, redirects, resumes; they carry no secrets). */
  onEvent?: ((e: RegistryEvent) => void) | undefined;
  /** Verbose log lines made from the same events. */
  log?: ((line: string) => void) | undefined;
  tagPageSize?: number | undefined;
}

export function describeEvent(e: RegistryEvent): string {
  switch (e.type) {
    case 'auth': return `${e.registry}: ${e.message}`;
    case 'retry': return `${e.registry}: retry ${e.attempt} in ${Math.round(e.delayMs)} ms (${e.reason})`;
    case 'redirect': return `${e.registry}: redirected to ${e.to}`;
    case 'resume': return `${e.registry}: ${e.restarted ? 'restarting' : 'resuming'} ${e.digest.slice(0, 19)} at byte ${e.offset}`;
    case 'fallback': return `${e.registry}: mirror ${e.from} did not serve it (${e.reason}); asking ${e.to}`;
  }
}

/**
 * The registry client of a run: credentials from the Docker configuration, and the mirrors of the
 * kairos-img configuration ($KAIROS_IMG_CONFIG, XDG, ~/.config) in front of the registries they
 * serve (`KAIROS_IMG_OFFLINE`: the mirrors only) — found through `env`, so every command honours them.
 */
export function createClient(opts: ClientOptions = {}): RegistryClient {
  const log = opts.log;
  const onEvent = opts.onEvent;
  const env = opts.env ?? process.env;
  const config = loadConfigSync({ env });
  const emit = log === undefined && onEvent === undefined ? undefined : (e: RegistryEvent): void => {
    onEvent?.(e);
    log?.(describeEvent(e));
  };
  const mirrors = Object.values(config.mirrors).flat();
  const client = createRegistryClient({
    plainHttp: opts.plainHttp,
    plainHttpHosts: new Set(mirrors.filter((m) => m.plainHttp).map((m) => m.host)),
    credentials: dockerConfigCredentials({ env }),
    userAgent: 'kairos-img',
    tagPageSize: opts.tagPageSize,
    onEvent: emit,
  });
  if (mirrors.length === 0) return client;
  const offline = offlineFromEnv(env);
  return withMirrors(client, { endpoints: (registry) => endpointsFor(config, registry, { offline }), offline, onEvent: emit });
}

/** Tag listing for resolution: a repository that does not exist is `undefined`, not an error. */
export function tagSource(client: RegistryClient): TagSource {
  return {
    async listTags(repository: Reference, signal?: AbortSignal) {
      try {
        return await client.listTags(repository, { signal });
      } catch (e) {
        if (isKairosImgError(e) && (e.code === 'NAME_UNKNOWN' || e.code === 'MANIFEST_UNKNOWN')) return undefined;
        throw e;
      }
    },
  };
}

/**
 * Fetches a manifest; when the tag does not exist, the error names the closest tags that do
 * (same version first, then by spelling), so a typo or a missing k3s build is one step from fixed.
 */
export async function getManifestExplained(client: RegistryClient, ref: Reference, opts: { platform?: Platform | undefined; signal?: AbortSignal | undefined }): Promise<ManifestResult> {
  try {
    return await client.getManifest(ref, opts);
  } catch (e) {
    if (!isKairosImgError(e) || e.code !== 'MANIFEST_UNKNOWN' || ref.tag === undefined || ref.digest !== undefined) throw e;
    let tags: string[];
    try {
      tags = await client.listTags(ref, { signal: opts.signal });
    } catch {
      throw e;
    }
    const near = nearestTags(ref.tag, tags, 5);
    throw new KairosImgError('MANIFEST_UNKNOWN', `tag ${ref.tag} not found in ${repositoryName(ref)}`, {
      hint: near.length > 0 ? `closest tags: ${near.join(', ')}` : `the repository has no release tags; see kairos-img tags ${repositoryName(ref)} --all`,
      details: { reference: formatReference(ref), closest: near },
      cause: e,
    });
  }
}
