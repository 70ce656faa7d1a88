/** One registry client per command run, configured from the command's options and environment. */
import { createRegistryClient, dockerConfigCredentials, type RegistryClient, type RegistryEvent } from '../registry/index.js';
import { isKairosImgError } from '../errors.js';
import type { Reference } from '../reference/reference.js';
import type { TagSource } from './resolve.js';

export interface ClientOptions {
  plainHttp?: boolean | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Verbose log lines (never secrets: events carry none). */
  log?: ((line: string) => void) | undefined;
  tagPageSize?: number | undefined;
}

export function describeEvent(e: RegistryEvent): string {
  switch (e.type) {
    case 'auth': return `${e.registry}: ${e.message}`;
    case 'retry': return `${e.registry}: retry ${e.attempt} in ${Math.round(e.delayMs)} ms (${e.reason})`;
    case 'redirect': return `${e.registry}: redirected to ${e.to}`;
    case 'resume': return `${e.registry}: ${e.restarted ? 'restarting' : 'resuming'} ${e.digest.slice(0, 19)} at byte ${e.offset}`;
  }
}

export function createClient(opts: ClientOptions = {}): RegistryClient {
  const log = opts.log;
  return createRegistryClient({
    plainHttp: opts.plainHttp,
    credentials: dockerConfigCredentials({ env: opts.env ?? process.env }),
    userAgent: 'kairos-img',
    tagPageSize: opts.tagPageSize,
    onEvent: log === undefined ? undefined : (e) => log(describeEvent(e)),
  });
}

/** Tag listing for resolution: a repository that does not exist is `undefined`, not an error. */
export function tagSource(client: RegistryClient): TagSource {
  return {
    async listTags(repository: Reference, signal?: AbortSignal) {
      try {
        return await client.listTags(repository, { signal });
      } catch (e) {
        if (isKairosImgError(e) && (e.code === 'NAME_UNKNOWN' || e.code === 'MANIFEST_UNKNOWN' || e.code === 'NOT_FOUND')) return undefined;
        throw e;
      }
    },
  };
}
