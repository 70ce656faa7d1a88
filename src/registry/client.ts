/**
 * An OCI distribution client (pull side), written by hand: no maintained JavaScript client
 * exists (the npm package `oras` is an unrelated stub), and Renovate's datasource shows what
 * string-munging gets wrong. Modelled on go-containerregistry's remote fetcher: manifests read
 * capped and checked against their digest, blobs wrapped in a verify-while-reading stream,
 * Authorization never sent to another host, the whole operation retried on transient failures.
 */
import type { Hash } from 'node:crypto';
import { Transform, type Readable, type Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { KairosImgError } from '../errors.js';
import { formatReference, manifestSelector, repositoryName, type Reference } from '../reference/reference.js';
import { createAuthenticator, pullScope, pushScope } from './auth.js';
import { anonymous, type CredentialSource } from './credentials.js';
import type { RegistryEvent } from './events.js';
import { networkFailure, parseRegistryErrors, responseFailure } from './failures.js';
import { discard, headerValue, httpRequest, readCapped, readSmall, type HttpBody, type HttpResponse } from './http.js';
import type { Transport, TransportRequest } from './transport.js';
import { createWriteSide, type WriteSide } from './push.js';
import { parseLinkNext, resolveSameOrigin } from './link-header.js';
import {
  MANIFEST_ACCEPT, MediaType, defaultPlatform, digestMismatch, digestOf, hashFor, kindOfMediaType, parseDigest, parseManifestDocument, selectPlatform, sizeMismatch, verifyingStream,
  type Descriptor, type ImageIndex, type ImageManifest, type Platform,
} from '../oci/index.js';
import { DEFAULT_RETRY, backoffDelay, isTransientNetworkError, markTransient, transientInfo, withRetry, type RetryPolicy } from './retry.js';

export const MANIFEST_CAP = 4 * 1024 * 1024;
export const SMALL_BLOB_CAP = 8 * 1024 * 1024;
const MAX_REDIRECTS = 5;
/**
 * Blobs from this size on are read into reused memory on a connection of their own
 * (blob-body.ts); smaller ones (configs, signatures) reuse the keep-alive connection.
 */
const POOLED_BODY_MIN = 1024 * 1024;

export interface RegistryClientOptions {
  /** HTTP instead of HTTPS, for every registry this client talks to (`--plain-http`). */
  plainHttp?: boolean | undefined;
  /** Hosts talked to over HTTP whatever `plainHttp` says (mirrors configured with `plainHttp: true`). */
  plainHttpHosts?: ReadonlySet<string> | undefined;
  credentials?: CredentialSource | undefined;
  userAgent?: string | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  onEvent?: ((e: RegistryEvent) => void) | undefined;
  tagPageSize?: number | undefined;
}

export interface ManifestResult {
  /** The image manifest that was selected (after platform selection for an index). */
  descriptor: Descriptor;
  manifest: ImageManifest;
  /** Present when the reference named an index (multi-arch). */
  index?: { descriptor: Descriptor; manifest: ImageIndex; raw: Buffer } | undefined;
  /** The exact bytes of `manifest`, which hash to `descriptor.digest`. */
  raw: Buffer;
}

/** One manifest or index exactly as the registry served it. */
export type ManifestDocument = { descriptor: Descriptor; raw: Buffer } & ({ kind: 'manifest'; manifest: ImageManifest } | { kind: 'index'; manifest: ImageIndex });

export interface Signalled { signal?: AbortSignal | undefined }

export interface FetchBlobOptions extends Signalled {
  /** Called with the number of bytes received so far (cumulative, including `resume.offset`). */
  onProgress?: ((bytes: number) => void) | undefined;
  /** Continue a blob whose first `offset` bytes the caller already has (and has fed to `hash`). */
  resume?: { offset: number; hash: Hash } | undefined;
  /**
   * false: sizes are checked, the digest is not — the caller checks it itself (the content cache
   * hashes what it writes on a worker thread). Default true.
   */
  hash?: boolean | undefined;
  /**
   * The consumer recycles every chunk (src/slab-pool.ts) once done with it — the cache's writer
   * with `recycleChunks`: a large blob is then read into reused memory (blob-body.ts). Not for
   * any other consumer: a chunk it keeps would hold a whole slab alive.
   */
  pooled?: boolean | undefined;
}

/** One answer of the referrers API, all pages read; `supported: false` when the registry has no such API. */
export type ReferrersApiResult =
  | { supported: false }
  | { supported: true; manifests: Descriptor[]; filtersApplied: string[] };

export interface RegistryClient extends WriteSide {
  ping(registry: string, opts?: Signalled): Promise<void>;
  /** `GET /v2/<name>/referrers/<digest>` (OCI distribution 1.1). */
  referrersApi(repo: Pick<Reference, 'registry' | 'repository'>, digest: string, opts?: Signalled & { artifactType?: string | undefined }): Promise<ReferrersApiResult>;
  getManifest(ref: Reference, opts?: Signalled & { platform?: Platform | undefined }): Promise<ManifestResult>;
  /**
   * The manifest or index a tag or digest names, exactly as served and checked against the digest:
   * no platform selection (signature tags, referrers indexes, artifacts).
   */
  fetchManifest(ref: Reference, opts?: Signalled): Promise<ManifestDocument>;
  headManifest(ref: Reference, opts?: Signalled): Promise<{ digest: string; mediaType: string; size: number } | undefined>;
  listTags(repo: Pick<Reference, 'registry' | 'repository'>, opts?: Signalled): Promise<string[]>;
  fetchBlob(repo: Pick<Reference, 'registry' | 'repository'>, descriptor: Descriptor, opts?: FetchBlobOptions): Readable;
  fetchBlobToBuffer(repo: Pick<Reference, 'registry' | 'repository'>, descriptor: Descriptor, opts?: Signalled & { cap?: number }): Promise<Buffer>;
}

/** The API host of a registry name (Docker Hub's API is not at docker.io). */
export function apiHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const plainHttp = options.plainHttp ?? false;
  const userAgent = options.userAgent ?? 'kairos-img';
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const pageSize = options.tagPageSize ?? 1000;
  const emit = options.onEvent ?? (() => undefined);
  const auth = createAuthenticator({ credentials: options.credentials ?? anonymous, plainHttp, userAgent, onEvent: emit });
  const base = (registry: string): string => `${plainHttp || options.plainHttpHosts?.has(registry) === true ? 'http' : 'https'}://${apiHost(registry)}`;

  const registryOrigin = (registry: string): string => new URL(base(registry)).origin;

  /** One logical request: auth (one 401 round), manual redirects, errors mapped. No retries here. */
  async function request(req: TransportRequest): Promise<HttpResponse> {
    const write = req.method !== 'GET' && req.method !== 'HEAD';
    const scope = req.scope ?? (req.repository !== undefined ? (write ? pushScope(req.repository) : pullScope(req.repository)) : undefined);
    // Authorization goes to the registry's own API origin only — not to whatever host a request
    // starts at (an upload Location may name another host) nor to a redirect target.
    const origin = registryOrigin(req.registry);
    const reopenable = typeof req.body === 'function';
    const openBody = (): HttpBody | undefined => (typeof req.body === 'function' ? req.body() : req.body);
    let url = req.url;
    let challenged = false;
    for (let hop = 0; ; hop++) {
      const sameHost = new URL(url).origin === origin;
      const headers: Record<string, string> = { 'user-agent': userAgent, ...req.headers };
      const authorization = sameHost ? await auth.header(req.registry, scope, req.signal) : undefined;
      if (authorization !== undefined) headers.authorization = authorization;
      const host = new URL(url).host;
      let res: HttpResponse;
      try {
        res = await httpRequest({ url, method: req.method, headers, body: openBody(), contentLength: req.contentLength, timeoutMs: req.timeoutMs, signal: req.signal, pooledBody: req.pooledBody });
      } catch (err) {
        throw networkFailure(err, { host, registry: req.registry, plainHttp });
      }
      if (res.status === 401 && sameHost) {
        discard(res.body);
        if (!challenged) {
          challenged = true;
          if (await auth.challenge(req.registry, scope, res.headers['www-authenticate'], req.signal, authorization)) {
            // A body already spent (a slice of an upload) cannot be sent again from here: the
            // caller resumes the upload with the new credentials.
            if (req.body !== undefined && !reopenable && typeof req.body !== 'string' && !Buffer.isBuffer(req.body)) {
              throw markTransient(new KairosImgError('AUTH_RETRY', `${req.registry} asked for new credentials during ${req.what}`));
            }
            hop--;
            continue;
          }
        }
        throw await auth.unauthorized(req.registry, req.repository, req.signal);
      }
      if (res.status >= 300 && res.status < 400 && res.status !== 304) {
        const location = headerValue(res.headers, 'location');
        discard(res.body);
        if (location === undefined) throw new KairosImgError('REGISTRY_ERROR', `${host} answered ${res.status} without a Location`);
        if (hop >= MAX_REDIRECTS) throw new KairosImgError('REGISTRY_ERROR', `too many redirects for ${req.what}`);
        // A write is redirected only when its method and body survive (307/308) and the body can be sent again.
        if (write && !((res.status === 307 || res.status === 308) && (req.body === undefined || reopenable || typeof req.body === 'string' || Buffer.isBuffer(req.body)))) {
          throw new KairosImgError('REGISTRY_ERROR', `${host} answered ${res.status} to ${req.method} for ${req.what}; kairos-img follows only 307/308 redirects of uploads`);
        }
        const next = new URL(location, url).toString();
        emit({ type: 'redirect', registry: req.registry, from: host, to: new URL(next).host });
        url = next;
        continue;
      }
      if ((res.status >= 200 && res.status < 300) || req.accept?.includes(res.status)) return res;
      throw await responseFailure(res, {
        registry: req.registry, repository: req.repository, what: req.what, tag: req.tag, digest: req.digest, action: write ? 'push' : 'pull',
      });
    }
  }

  function retrying<T>(registry: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(fn, {
      policy, signal,
      onRetry: (e) => emit({ type: 'retry', registry, attempt: e.attempt, delayMs: e.delayMs, reason: e.reason }),
    });
  }

  const transport: Transport = { request, retrying, base, emit, policy, plainHttp };

  async function fetchManifestBytes(ref: Reference, selector: string, signal?: AbortSignal): Promise<{ raw: Buffer; contentType: string | undefined; digest: string }> {
    const what = `${formatReference(ref)}`;
    return retrying(ref.registry, async () => {
      const res = await request({
        registry: ref.registry, repository: ref.repository, method: 'GET', signal,
        url: `${base(ref.registry)}/v2/${ref.repository}/manifests/${selector}`,
        headers: { accept: MANIFEST_ACCEPT }, what: `manifest ${selector}`,
        ...(selector.includes(':') ? { digest: selector } : { tag: selector }),
      });
      let raw: Buffer;
      try {
        raw = await readCapped(res.body, MANIFEST_CAP, `the manifest of ${what}`);
      } catch (err) {
        if (isTransientNetworkError(err)) throw markTransient(err as Error);
        throw new KairosImgError('MANIFEST_TOO_LARGE', (err as Error).message, {
          hint: 'a manifest is a small JSON document; this registry answered something else (check the reference, and any proxy in front of the registry)',
          details: { reference: what },
        });
      }
      const isDigest = selector.includes(':');
      const algorithm = isDigest ? parseDigest(selector).algorithm : 'sha256';
      const digest = digestOf(raw, algorithm);
      if (isDigest && digest !== selector) {
        throw digestMismatch(`manifest of ${repositoryName(ref)}`, selector, digest);
      }
      const dcd = headerValue(res.headers, 'docker-content-digest');
      if (!isDigest && dcd !== undefined && dcd.startsWith('sha256:') && dcd !== digest) {
        throw digestMismatch(`manifest of ${what}`, dcd, digest);
      }
      return { raw, contentType: headerValue(res.headers, 'content-type'), digest };
    }, signal);
  }

  const client: RegistryClient = {
    ...createWriteSide(transport),

    async referrersApi(repo, digest, opts = {}) {
      parseDigest(digest);
      const manifests: Descriptor[] = [];
      const filters = new Set<string>();
      const first = new URL(`${base(repo.registry)}/v2/${repo.repository}/referrers/${digest}`);
      if (opts.artifactType !== undefined) first.searchParams.set('artifactType', opts.artifactType);
      const visited = new Set<string>();
      for (let url: string | undefined = first.toString(); url !== undefined;) {
        if (visited.has(url)) break;
        visited.add(url);
        const pageUrl: string = url;
        const page = await retrying(repo.registry, async () => {
          const res = await request({
            registry: repo.registry, repository: repo.repository, method: 'GET', url: pageUrl, accept: [404], signal: opts.signal,
            headers: { accept: MediaType.ociIndex }, what: `referrers of ${digest}`, digest,
          });
          const contentType = (headerValue(res.headers, 'content-type') ?? '').split(';')[0]?.trim();
          // oras-go's rule: a 404 (other than an unknown repository) or an answer that is not an
          // index means the registry has no referrers API.
          if (res.status === 404 || contentType !== MediaType.ociIndex) {
            const body = await readSmall(res.body);
            if (res.status === 404 && parseRegistryErrors(body).some((e) => e.code === 'NAME_UNKNOWN')) {
              throw new KairosImgError('NAME_UNKNOWN', `repository ${repositoryName(repo)} does not exist`, { details: { registry: repo.registry, repository: repo.repository } });
            }
            return undefined;
          }
          const raw = await readCapped(res.body, MANIFEST_CAP, `the referrers of ${digest}`);
          const doc = parseManifestDocument(raw, contentType, `referrers of ${repositoryName(repo)}@${digest}`);
          if (doc.kind !== 'index') return undefined;
          const applied = [headerValue(res.headers, 'oci-filters-applied'), doc.manifest.annotations?.['org.opencontainers.referrers.filtersApplied']]
            .flatMap((v) => (v ?? '').split(',')).map((v) => v.trim()).filter((v) => v !== '');
          return { manifests: doc.manifest.manifests, applied, link: res.headers.link };
        }, opts.signal);
        if (page === undefined) return { supported: false };
        manifests.push(...page.manifests);
        for (const f of page.applied) filters.add(f);
        const next = parseLinkNext(page.link);
        url = next === undefined ? undefined : resolveSameOrigin(pageUrl, next);
      }
      return { supported: true, manifests, filtersApplied: [...filters] };
    },

    async ping(registry, opts = {}) {
      await retrying(registry, async () => {
        const res = await request({ registry, method: 'GET', url: `${base(registry)}/v2/`, what: 'ping', signal: opts.signal });
        discard(res.body);
      }, opts.signal);
    },

    async getManifest(ref, opts = {}) {
      const selector = manifestSelector(ref);
      const what = formatReference(ref);
      const first = await fetchManifestBytes(ref, selector, opts.signal);
      const doc = parseManifestDocument(first.raw, first.contentType, what);
      const firstDesc: Descriptor = { mediaType: doc.mediaType, digest: first.digest, size: first.raw.length };
      if (doc.kind === 'manifest') return { descriptor: firstDesc, manifest: doc.manifest, raw: first.raw };
      const chosen = selectPlatform(doc.manifest, opts.platform ?? defaultPlatform(), what);
      const child = await fetchManifestBytes(ref, chosen.digest, opts.signal);
      const childDoc = parseManifestDocument(child.raw, child.contentType ?? chosen.mediaType, `${what} (${chosen.digest})`);
      if (childDoc.kind !== 'manifest') {
        throw new KairosImgError('UNSUPPORTED_MEDIA_TYPE', `${what}: the index entry for the platform is itself an index`, { details: { digest: chosen.digest } });
      }
      if (child.raw.length !== chosen.size) {
        throw sizeMismatch(`manifest ${chosen.digest} of ${what}`, chosen.size, String(child.raw.length));
      }
      return {
        descriptor: { mediaType: childDoc.mediaType, digest: child.digest, size: child.raw.length, ...(chosen.platform ? { platform: chosen.platform } : {}) },
        manifest: childDoc.manifest, raw: child.raw,
        index: { descriptor: firstDesc, manifest: doc.manifest, raw: first.raw },
      };
    },

    async fetchManifest(ref, opts = {}) {
      const got = await fetchManifestBytes(ref, manifestSelector(ref), opts.signal);
      const doc = parseManifestDocument(got.raw, got.contentType, formatReference(ref));
      const descriptor: Descriptor = { mediaType: doc.mediaType, digest: got.digest, size: got.raw.length };
      return doc.kind === 'manifest' ? { descriptor, raw: got.raw, kind: 'manifest', manifest: doc.manifest } : { descriptor, raw: got.raw, kind: 'index', manifest: doc.manifest };
    },

    async headManifest(ref, opts = {}) {
      const selector = manifestSelector(ref);
      const found = await retrying(ref.registry, async () => {
        const res = await request({
          registry: ref.registry, repository: ref.repository, method: 'HEAD', signal: opts.signal, accept: [404],
          url: `${base(ref.registry)}/v2/${ref.repository}/manifests/${selector}`, headers: { accept: MANIFEST_ACCEPT },
          what: `manifest ${selector}`,
        });
        discard(res.body);
        if (res.status === 404) return undefined;
        return {
          digest: headerValue(res.headers, 'docker-content-digest'),
          mediaType: (headerValue(res.headers, 'content-type') ?? '').split(';')[0]?.trim() ?? '',
          size: Number(headerValue(res.headers, 'content-length') ?? NaN),
        };
      }, opts.signal);
      if (found === undefined) return undefined;
      if (found.digest !== undefined && kindOfMediaType(found.mediaType) !== undefined && Number.isSafeInteger(found.size)) {
        return { digest: found.digest, mediaType: found.mediaType, size: found.size };
      }
      // Registries may omit Docker-Content-Digest on HEAD: compute it from the bytes.
      const full = await fetchManifestBytes(ref, selector, opts.signal);
      const doc = parseManifestDocument(full.raw, full.contentType, formatReference(ref));
      return { digest: full.digest, mediaType: doc.mediaType, size: full.raw.length };
    },

    async listTags(repo, opts = {}) {
      const tags: string[] = [];
      const seen = new Set<string>();
      let url: string | undefined = `${base(repo.registry)}/v2/${repo.repository}/tags/list?n=${pageSize}`;
      const visited = new Set<string>();
      while (url !== undefined) {
        if (visited.has(url)) break; // a registry looping its Link header
        visited.add(url);
        const pageUrl: string = url;
        const page = await retrying(repo.registry, async () => {
          const res = await request({ registry: repo.registry, repository: repo.repository, method: 'GET', url: pageUrl, what: 'tag list', signal: opts.signal });
          const body = await readCapped(res.body, 16 * 1024 * 1024, 'tag list');
          let doc: { tags?: unknown };
          try {
            doc = JSON.parse(body.toString('utf8')) as { tags?: unknown };
          } catch {
            throw new KairosImgError('REGISTRY_ERROR', `${repositoryName(repo)}: the tag list is not valid JSON`);
          }
          return { tags: Array.isArray(doc.tags) ? doc.tags.filter((t): t is string => typeof t === 'string') : [], link: res.headers.link };
        }, opts.signal);
        for (const t of page.tags) if (!seen.has(t)) { seen.add(t); tags.push(t); }
        const next = parseLinkNext(page.link);
        url = next === undefined ? undefined : resolveSameOrigin(pageUrl, next);
        if (next !== undefined && url === undefined) {
          emit({ type: 'redirect', registry: repo.registry, from: new URL(pageUrl).host, to: 'another host (tag pagination not followed)' });
        }
      }
      return tags;
    },

    fetchBlob(repo, descriptor, opts = {}) {
      const hasher = opts.resume?.hash ?? hashFor(descriptor.digest);
      const verified = verifyingStream(descriptor, {
        what: `blob ${descriptor.digest} of ${repositoryName(repo)}`, hasher, offset: opts.resume?.offset ?? 0, onProgress: opts.onProgress,
        // Socket chunks are 64 KiB: a few of them in flight per blob is enough to keep it moving,
        // and three layers at once then stay within a small memory budget.
        hash: opts.hash, highWaterMark: 256 * 1024,
      });
      pumpBlob(repo, descriptor, opts, verified).then(
        () => { if (!verified.destroyed) verified.end(); },
        (err: unknown) => verified.destroy(err instanceof Error ? err : new Error(String(err))),
      );
      return verified;
    },

    async fetchBlobToBuffer(repo, descriptor, opts = {}) {
      const cap = opts.cap ?? SMALL_BLOB_CAP;
      if (descriptor.size > cap) {
        throw new KairosImgError('BLOB_TOO_LARGE', `blob ${descriptor.digest} is ${descriptor.size} bytes, more than the ${cap}-byte limit for JSON`, { details: { digest: descriptor.digest } });
      }
      const chunks: Buffer[] = [];
      for await (const chunk of client.fetchBlob(repo, descriptor, { signal: opts.signal })) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };

  /**
   * Feeds the blob's bytes as received into `sink` (the verifying stream), straight from the
   * socket: each response is piped in (backpressure included) without a stream in between. On a
   * dropped connection it resumes with `Range: bytes=N-` (206) or, when the server ignores Range
   * (200), re-reads and skips the N bytes already delivered. Resolves when all bytes are in.
   */
  async function pumpBlob(repo: Pick<Reference, 'registry' | 'repository'>, desc: Descriptor, opts: FetchBlobOptions, sink: Writable): Promise<void> {
    let pos = opts.resume?.offset ?? 0;
    const url = `${base(repo.registry)}/v2/${repo.repository}/blobs/${desc.digest}`;
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        if (sink.destroyed) return;
        const res = await request({
          registry: repo.registry, repository: repo.repository, method: 'GET', url, signal: opts.signal,
          headers: pos > 0 ? { range: `bytes=${pos}-` } : {}, what: `blob ${desc.digest}`, digest: desc.digest,
          pooledBody: opts.pooled === true && desc.size - pos >= POOLED_BODY_MIN,
        });
        let skip = 0;
        if (pos > 0) {
          const range = /^bytes (\d+)-/.exec(headerValue(res.headers, 'content-range') ?? '');
          const resumed = res.status === 206 && range !== null && Number(range[1]) === pos;
          if (!resumed) skip = pos;
          emit({ type: 'resume', registry: repo.registry, digest: desc.digest, offset: pos, restarted: !resumed });
        }
        await new Promise<void>((resolve, reject) => {
          const body = res.body;
          // The consumer stopped (or failed): drop the connection.
          const onSinkClose = (): void => {
            body.destroy();
            resolve();
          };
          sink.once('close', onSinkClose);
          const done = (err?: Error): void => {
            sink.off('close', onSinkClose);
            body.off('data', onData);
            body.unpipe(sink);
            if (err !== undefined) reject(err);
            else resolve();
          };
          const onData = (c: Buffer): void => {
            if (skip > 0) return;
            pos += c.length;
          };
          if (skip > 0) {
            // Rare (a server without Range): drop the bytes already delivered, then go on as usual.
            const skipper = new Transform({
              transform(chunk: Buffer, _enc, cb) {
                let c = chunk;
                if (skip > 0) {
                  if (c.length <= skip) { skip -= c.length; cb(); return; }
                  c = c.subarray(skip);
                  skip = 0;
                }
                pos += c.length;
                cb(null, c);
              },
            });
            body.once('error', done);
            skipper.once('end', () => done());
            body.pipe(skipper).pipe(sink, { end: false });
            return;
          }
          body.on('data', onData);
          body.once('error', done);
          body.once('aborted', () => done(Object.assign(new Error('the connection was aborted by the server'), { code: 'ECONNRESET' })));
          body.once('end', () => done());
          body.pipe(sink, { end: false });
        });
        if (sink.destroyed) return;
        if (pos < desc.size) {
          throw markTransient(Object.assign(new Error(`blob ${desc.digest} ended after ${pos} of ${desc.size} bytes`), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
        }
        return;
      } catch (err) {
        opts.signal?.throwIfAborted();
        const e = err instanceof KairosImgError ? err : networkFailure(err, { host: new URL(url).host, registry: repo.registry, plainHttp });
        const retryable = transientInfo(e) !== undefined || transientInfo(err) !== undefined || isTransientNetworkError(err);
        const delay = Math.max(transientInfo(e)?.retryAfterMs ?? 0, backoffDelay(attempt, policy));
        if (!retryable || attempt + 1 >= policy.attempts || Date.now() - started + delay > policy.maxElapsedMs) throw e;
        emit({ type: 'retry', registry: repo.registry, attempt: attempt + 1, delayMs: delay, reason: e instanceof Error ? e.message : String(e) });
        await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : undefined);
      }
    }
  }

  return client;
}
