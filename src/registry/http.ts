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
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 32 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: string;
}

export interface HttpRequest {
  url: string;
  method: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string> | undefined;
  body?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Idle socket timeout; a stalled transfer becomes a (retryable) ETIMEDOUT. */
  timeoutMs?: number | undefined;
}

export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.url);
    const mod = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? agents.https : agents.http;
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const r = mod.request(url, { method: req.method, headers, agent, signal: req.signal }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url });
    });
    const timeoutMs = req.timeoutMs ?? 60_000;
    r.setTimeout(timeoutMs, () => {
      const err = Object.assign(new Error(`no data from ${url.host} for ${timeoutMs / 1000}s`), { code: 'ETIMEDOUT' });
      r.destroy(err);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Reads at most `cap` bytes; more is an error (a registry must not make us buffer unbounded data). */
export async function readCapped(body: IncomingMessage, cap: number, what: string): Promise<Buffer> {
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
export async function readSmall(body: IncomingMessage, cap = 64 * 1024): Promise<string> {
  try {
    return (await readCapped(body, cap, 'error body')).toString('utf8');
  } catch {
    return '';
  }
}

/** Discards a body so the keep-alive socket can be reused. */
export function discard(body: IncomingMessage): void {
  body.resume();
  body.on('error', () => undefined);
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
