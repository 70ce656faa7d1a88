/**
 * What the read and write sides of the registry client share: one logical request (auth with one
 * 401 round, redirects, errors mapped), the retry wrapper and the URL base of a registry. The
 * client (client.ts) builds it once; the write side (push.ts) and the referrers listing use it, so
 * uploads get the same auth, redirect and redaction rules as reads. Types only.
 */
import type { RegistryEvent } from './events.js';
import type { HttpBody, HttpMethod, HttpResponse } from './http.js';
import type { RetryPolicy } from './retry.js';

export interface TransportRequest {
  registry: string;
  repository?: string | undefined;
  method: HttpMethod;
  url: string;
  headers?: Record<string, string> | undefined;
  /**
   * Bytes, or a function that opens the body anew: only such a body can be sent again after a
   * 401 or a 307. A bare stream cannot; a 401 on it becomes a transient AUTH_RETRY failure.
   */
  body?: HttpBody | (() => HttpBody) | undefined;
  contentLength?: number | undefined;
  timeoutMs?: number | undefined;
  what: string;
  tag?: string | undefined;
  digest?: string | undefined;
  /** Statuses handed back to the caller instead of becoming errors. */
  accept?: number[] | undefined;
  /** Token scope (space-separated scopes); default pull for GET/HEAD, pull+push otherwise. */
  scope?: string | undefined;
  signal?: AbortSignal | undefined;
  /** A large blob GET: see HttpRequest.pooledBody. */
  pooledBody?: boolean | undefined;
}

export interface Transport {
  request(req: TransportRequest): Promise<HttpResponse>;
  retrying<T>(registry: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** `https://host[:port]` of a registry's API. */
  base(registry: string): string;
  emit(e: RegistryEvent): void;
  readonly policy: RetryPolicy;
  readonly plainHttp: boolean;
}
