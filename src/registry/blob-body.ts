/**
 * A GET whose body is read into reused memory (src/slab-pool.ts): the HTTP edge for large blob
 * downloads only. Everything else goes through node:http (http.ts).
 *
 * Why by hand: node:http reads each socket chunk into a new ArrayBuffer and copies every body
 * piece into another, and nothing in its API lets a caller supply the memory; V8 frees such dead
 * buffers only in 32 MB steps, which was a third of a pull's peak RSS. A socket's `onread` option
 * reads into memory we give it, so the response is parsed here — only the small part of HTTP/1.1
 * a registry or CDN answers a blob GET with: a status line, headers, then a body delimited by
 * Content-Length (or by the end of the connection). Anything else (a chunked body, an interim
 * 1xx, an oversized head) rejects with NOT_SIMPLE_CODE and the caller asks again through
 * node:http. One connection per request, closed after it: a blob is megabytes, a handshake is
 * noise next to it, and there is no keep-alive state to get wrong.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import { slabCursor } from '../slab-pool.js';
import type { HttpResponse } from './http.js';

/** The answer was not one this reader handles: send the request through node:http instead. */
export const NOT_SIMPLE_CODE = 'KIMG_HTTP_NOT_SIMPLE';
const HEAD_CAP = 64 * 1024;
const BODY_HWM = 512 * 1024;

function notSimple(why: string): Error {
  return Object.assign(new Error(`the response needs the full HTTP client: ${why}`), { code: NOT_SIMPLE_CODE });
}

export interface BlobGetRequest {
  url: string;
  headers: Record<string, string>;
  signal?: AbortSignal | undefined;
  timeoutMs: number;
}

/** The status line and headers of a response head (everything before its blank line). */
function parseHead(head: Buffer): { status: number; headers: IncomingHttpHeaders } {
  const lines = head.toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (m === null) throw Object.assign(new Error(`malformed HTTP status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`), { code: 'HPE_INVALID_CONSTANT' });
  const headers: IncomingHttpHeaders = {};
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (line.startsWith(' ') || line.startsWith('\t')) throw notSimple('folded header line');
    const colon = line.indexOf(':');
    if (colon <= 0) throw Object.assign(new Error('malformed HTTP header line'), { code: 'HPE_INVALID_HEADER_TOKEN' });
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'set-cookie') {
      (headers['set-cookie'] ??= []).push(value);
      continue;
    }
    const had = headers[name];
    headers[name] = typeof had === 'string' ? `${had}, ${value}` : value;
  }
  return { status: Number(m[1]), headers };
}

export function blobGet(req: BlobGetRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.url);
    const secure = url.protocol === 'https:';
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port || (secure ? 443 : 80));
    const cursor = slabCursor();
    /** The response head's bytes so far (copies: their slab may be reused); undefined once it is parsed. */
    let head: Buffer[] | undefined = [];
    let headLength = 0;
    /** The head's last (up to) 3 bytes: a blank line may straddle two reads. */
    let tail = Buffer.alloc(0);
    let body: Readable | undefined;
    /** Body bytes still to come; undefined: until the connection ends. */
    let left: number | undefined;
    let settled = false;
    /** The body is complete (or ended with the connection). */
    let done = false;

    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      if (!settled) {
        settled = true;
        reject(err);
      } else if (body !== undefined && !body.readableEnded) {
        // Not before the caller had its turn: the body may have been handed over in this very
        // read, and an 'error' before its listeners are attached would be an uncaught one.
        const b = body;
        setImmediate(() => b.destroy(err));
      }
      socket.destroy();
      cursor.close();
    };
    const finish = (): void => {
      done = true;
      body?.push(null);
      socket.destroy();
      cursor.close();
    };

    const onread = {
      buffer: () => cursor.room(),
      callback: (n: number, buf: Uint8Array): boolean => {
        if (head !== undefined) {
          // Where in this read the head ends (just past its blank line), searched once per byte.
          const data = Buffer.from(buf.buffer, buf.byteOffset, n);
          const straddle = Buffer.concat([tail, data.subarray(0, 3)]).indexOf('\r\n\r\n');
          const found = data.indexOf('\r\n\r\n');
          const past = straddle >= 0 ? straddle + 4 - tail.length : found >= 0 ? found + 4 : -1;
          if (past < 0) {
            cursor.lend(n, n);
            headLength += n;
            if (headLength > HEAD_CAP) {
              fail(notSimple('a response head over 64 KiB'));
              return false;
            }
            head.push(Buffer.from(data));
            tail = Buffer.from(Buffer.concat([tail, data.subarray(Math.max(0, n - 3))]).subarray(-3));
            return true;
          }
          const whole = Buffer.concat([...head, data.subarray(0, past)]);
          let parsed: { status: number; headers: IncomingHttpHeaders };
          try {
            parsed = parseHead(whole.subarray(0, whole.length - 4));
            if (parsed.status < 200) throw notSimple(`an interim ${parsed.status} response`);
            if (parsed.headers['transfer-encoding'] !== undefined) throw notSimple(`Transfer-Encoding: ${String(parsed.headers['transfer-encoding'])}`);
          } catch (e) {
            fail(e as Error);
            return false;
          }
          head = undefined;
          const declared = parsed.headers['content-length'];
          if (parsed.status === 204 || parsed.status === 304) left = 0;
          else if (declared !== undefined) {
            if (!/^\d+$/.test(declared)) {
              fail(Object.assign(new Error(`invalid Content-Length ${JSON.stringify(declared)}`), { code: 'HPE_INVALID_CONTENT_LENGTH' }));
              return false;
            }
            left = Number(declared);
          }
          const headers = parsed.headers;
          body = Object.assign(new Readable({ highWaterMark: BODY_HWM, read: () => socket.resume(), destroy: (e, cb) => { failed = true; socket.destroy(); cursor.close(); cb(e); } }), { headers });
          settled = true;
          resolve({ status: parsed.status, headers, body: body as HttpResponse['body'], url: req.url });
          // The rest of this read is body (the head's bytes are not lent).
          return deliver(cursor.lend(n, past));
        }
        return deliver(cursor.lend(n));
      },
    };

    const deliver = (chunk: Buffer): boolean => {
      const b = body as Readable;
      if (left !== undefined && chunk.length > left) {
        fail(Object.assign(new Error(`the server sent more than the ${left} bytes its Content-Length announced`), { code: 'HPE_INVALID_CONTENT_LENGTH' }));
        return false;
      }
      let more = true;
      if (chunk.length > 0) {
        more = b.push(chunk);
        if (left !== undefined) left -= chunk.length;
      }
      if (left === 0) {
        finish();
        return false;
      }
      return more;
    };

    const options = { host, port, onread, noDelay: true };
    const socket = secure
      ? tls.connect({ ...options, servername: net.isIP(host) === 0 ? host : undefined, ALPNProtocols: ['http/1.1'] })
      : net.connect(options);
    socket.setTimeout(req.timeoutMs, () => {
      fail(Object.assign(new Error(`no data from ${url.host} for ${req.timeoutMs / 1000}s`), { code: 'ETIMEDOUT' }));
    });
    socket.on('error', fail);
    socket.on('end', () => {
      if (head !== undefined) fail(Object.assign(new Error('the server closed the connection before it answered'), { code: 'ECONNRESET' }));
      else if (left === undefined) finish();
      else if (left > 0) fail(Object.assign(new Error(`the connection closed ${left} bytes before the end of the body`), { code: 'ECONNRESET' }));
    });
    socket.on('close', () => {
      if (!done) fail(Object.assign(new Error(settled ? 'the connection closed before the end of the body' : 'the connection closed before the server answered'), { code: 'ECONNRESET' }));
    });
    const onAbort = (): void => fail(Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: req.signal?.reason }));
    if (req.signal?.aborted === true) {
      onAbort();
      return;
    }
    req.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('close', () => req.signal?.removeEventListener('abort', onAbort));

    const headers: Record<string, string> = { host: url.host, ...req.headers, connection: 'close' };
    let text = `GET ${url.pathname}${url.search} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) {
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) {
        fail(new Error(`header ${k} contains a line break`));
        return;
      }
      text += `${k}: ${v}\r\n`;
    }
    socket.write(`${text}\r\n`);
  });
}
