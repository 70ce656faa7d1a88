/**
 * The HTTP edge: one request, no redirects, no retries, no auth — those are policy decided above.
 *
 * Why node:http/https and not the built-in fetch (undici): we need (1) the raw Node Readable of a
 * blob body with no WHATWG-stream bridge on a multi-GB path, (2) manual redirects where we alone
 * decide which headers cross hosts (fetch's `redirect: 'manual'` hides Location in some modes
 * and forbids setting some headers), (3) plain error codes (ECONNREFUSED, ECONNRESET,
 * CERT_HAS_EXPIRED) instead of a generic "fetch failed" to classify, and (4) AbortSignal that
 * tears down both request and response. Keep-alive agents keep one TLS session per host.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { blobGet, NOT_SIMPLE_CODE } from './blob-body.js';

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 32 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

/** A response body: node:http's IncomingMessage, or blob-body.ts's reader (same headers). */
export type ResponseBody = Readable & { headers: IncomingHttpHeaders };

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: ResponseBody;
  url: string;
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request body: bytes, or a stream of exactly `contentLength` bytes (a blob read from disk). */
export type HttpBody = string | Buffer | Readable;

export interface HttpRequest {
  url: string;
  method: HttpMethod;
  headers?: Record<string, string> | undefined;
  body?: HttpBody | undefined;
  /** Required for a stream body (registries want Content-Length on PUT and PATCH). */
  contentLength?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Idle socket timeout; a stalled transfer becomes a (retryable) ETIMEDOUT. */
  timeoutMs?: number | undefined;
  /**
   * A large blob GET: its body is read into reused memory (blob-body.ts), its chunks may be
   * recycled by their last consumer (src/slab-pool.ts). Answers that reader does not handle are
   * asked again through node:http.
   */
  pooledBody?: boolean | undefined;
}

export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  if (req.pooledBody === true && req.method === 'GET' && req.body === undefined) {
    try {
      return await blobGet({ url: req.url, headers: req.headers ?? {}, signal: req.signal, timeoutMs: req.timeoutMs ?? 60_000 });
    } catch (err) {
      if ((err as { code?: unknown }).code !== NOT_SIMPLE_CODE) throw err;
    }
  }
  return nodeRequest(req);
}

function nodeRequest(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.url);
    const mod = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? agents.https : agents.http;
    const headers: Record<string, string> = { ...req.headers };
    const body = req.body;
    const bytes = typeof body === 'string' || Buffer.isBuffer(body) ? body : undefined;
    const stream = body !== undefined && bytes === undefined ? (body as Readable) : undefined;
    if (stream !== undefined) {
      if (req.contentLength === undefined) throw new Error('a stream body needs a content length');
      headers['content-length'] = String(req.contentLength);
    } else if (bytes !== undefined) {
      headers['content-length'] = String(Buffer.byteLength(bytes));
    } else if (req.method === 'PUT' || req.method === 'PATCH' || req.method === 'POST') {
      headers['content-length'] = '0';
    }
    const r = mod.request(url, { method: req.method, headers, agent, signal: req.signal }, (res) => {
      // An answer before the body was sent whole (an early refusal): stop reading the source.
      if (stream !== undefined && !stream.readableEnded) {
        stream.unpipe(r);
        stream.destroy();
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url });
    });
    const timeoutMs = req.timeoutMs ?? 60_000;
    r.setTimeout(timeoutMs, () => {
      const err = Object.assign(new Error(`no data from ${url.host} for ${timeoutMs / 1000}s`), { code: 'ETIMEDOUT' });
      r.destroy(err);
    });
    r.on('error', (err) => {
      stream?.destroy();
      reject(err);
    });
    if (stream === undefined) {
      r.end(bytes);
      return;
    }
    // The source failing (a file that changed under a verifying stream) aborts the request with
    // its own error, so the registry never sees a complete body.
    stream.once('error', (err) => r.destroy(err));
    stream.pipe(r);
  });
}

/** Reads at most `cap` bytes; more is an error (a registry must not make us buffer unbounded data). */
export async function readCapped(body: ResponseBody, cap: number, what: string): Promise<Buffer> {
  const declared = Number(body.headers['content-length']);
  if (Number.isFinite(declared) && declared > cap) {
    body.destroy();
    throw new Error(`${what} is ${declared} bytes, more than the ${cap}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > cap) {
      body.destroy();
      throw new Error(`${what} is more than the ${cap}-byte limit`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** Reads a small body (error JSON) best-effort; never throws. */
export async function readSmall(body: ResponseBody, cap = 64 * 1024): Promise<string> {
  try {
    return (await readCapped(body, cap, 'error body')).toString('utf8');
  } catch {
    return '';
  }
}

/** Discards a body so the keep-alive socket can be reused. */
export function discard(body: ResponseBody): void {
  body.resume();
  body.on('error', () => undefined);
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
