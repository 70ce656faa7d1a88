/**
 * Registry mirrors as a layer over the registry client: every read (manifests, tags, blobs,
 * referrers) goes to the first endpoint of the registry that answers with the content — its
 * mirrors from the configuration in order, then the registry itself (not when offline) — under the
 * same canonical reference, so callers never see a mirror's name. Writes go where they are sent.
 * The one place where endpoints are chosen (containerd's `hosts.toml` rule): operations and
 * commands only name canonical references.
 */
import { Readable } from 'node:stream';
import { KairosImgError, isAbortError, isKairosImgError } from '../errors.js';
import type { Endpoint } from '../config/index.js';
import type { Reference } from '../reference/reference.js';
import type { RegistryClient } from './client.js';
import type { RegistryEvent } from './events.js';

type Repo = Pick<Reference, 'registry' | 'repository'>;

export interface MirrorResolution {
  /** The endpoints of a registry, in order (src/config/endpoints.ts). */
  endpoints(registry: string): Endpoint[];
  offline: boolean;
  onEvent?: ((e: RegistryEvent) => void) | undefined;
}

/** Errors after which the next endpoint is asked: the mirror lacks it, is down, refuses, or served bad bytes. */
function fallsThrough(e: unknown): boolean {
  if (isAbortError(e) || !isKairosImgError(e)) return false;
  return e.kind === 'operational' && e.code !== 'INTERRUPTED';
}

function at<R extends Repo>(ref: R, ep: Endpoint): R {
  return { ...ref, registry: ep.host, repository: ep.repository(ref.repository) };
}

export function withMirrors(inner: RegistryClient, m: MirrorResolution): RegistryClient {
  const emit = m.onEvent ?? (() => undefined);

  async function across<T>(repo: Repo, what: string, fn: (r: Repo) => Promise<T>): Promise<T> {
    const eps = m.endpoints(repo.registry);
    if (eps.length === 1 && eps[0]?.mirror === false) return fn(repo);
    let last: unknown;
    for (const [i, ep] of eps.entries()) {
      try {
        return await fn(at(repo, ep));
      } catch (e) {
        last = e;
        if (!fallsThrough(e) || i === eps.length - 1) break;
        emit({ type: 'fallback', registry: repo.registry, from: ep.host, to: eps[i + 1]?.host ?? '', reason: (e as Error).message });
      }
    }
    throw explain(last, repo, eps, what);
  }

  function explain(e: unknown, repo: Repo, eps: readonly Endpoint[], what: string): unknown {
    if (!m.offline || !isKairosImgError(e) || !eps.every((x) => x.mirror)) return e;
    return new KairosImgError(e.code, `${e.message} (offline: only the mirrors of ${repo.registry} were asked for ${what}: ${eps.map((x) => x.host).join(', ')})`, {
      hint: `mirror it first (kairos-img mirror … --to ${eps[0]?.host ?? 'MIRROR'}), or drop --offline to ask ${repo.registry}`,
      details: e.details, cause: e,
    });
  }

  const client: RegistryClient = {
    ...inner,
    getManifest: (ref, opts) => across(ref, 'a manifest', (r) => inner.getManifest(r as Reference, opts)),
    fetchManifest: (ref, opts) => across(ref, 'a manifest', (r) => inner.fetchManifest(r as Reference, opts)),
    headManifest: (ref, opts) => across(ref, 'a manifest', async (r) => {
      const found = await inner.headManifest(r as Reference, opts);
      // Absent from a mirror is not absent: ask the next endpoint.
      if (found === undefined) throw new KairosImgError('MANIFEST_UNKNOWN', `not on ${r.registry}`);
      return found;
    }).catch((e: unknown) => {
      if (isKairosImgError(e) && (e.code === 'MANIFEST_UNKNOWN' || e.code === 'NAME_UNKNOWN')) return undefined;
      throw e;
    }),
    listTags: (repo, opts) => across(repo, 'its tags', (r) => inner.listTags(r, opts)),
    referrersApi: (repo, digest, opts) => across(repo, 'referrers', (r) => inner.referrersApi(r, digest, opts)),
    fetchBlobToBuffer: (repo, d, opts) => across(repo, `blob ${d.digest}`, (r) => inner.fetchBlobToBuffer(r, d, opts)),
    fetchBlob(repo, d, opts = {}) {
      const eps = m.endpoints(repo.registry);
      if (eps.length === 1 && eps[0]?.mirror === false) return inner.fetchBlob(repo, d, opts);
      async function* fromFirstThatHasIt(): AsyncGenerator<Buffer> {
        let last: unknown;
        for (const [i, ep] of eps.entries()) {
          let started = false;
          try {
            for await (const chunk of inner.fetchBlob(at(repo, ep), d, opts) as AsyncIterable<Buffer>) {
              started = true;
              yield chunk;
            }
            return;
          } catch (e) {
            last = e;
            // Once bytes went out, another endpoint cannot take over (the consumer has them).
            if (started || !fallsThrough(e) || i === eps.length - 1) break;
            emit({ type: 'fallback', registry: repo.registry, from: ep.host, to: eps[i + 1]?.host ?? '', reason: (e as Error).message });
          }
        }
        throw explain(last, repo, eps, `blob ${d.digest}`);
      }
      return Readable.from(fromFirstThatHasIt(), { objectMode: false, highWaterMark: 1024 * 1024 });
    },
  };
  return client;
}
