// A fault-injecting HTTP proxy in front of a real registry, for tests of retries, resumption and
// CDN redirects. Why hand-written: toxiproxy and friends work at the TCP level and know nothing of
// registry paths, Retry-After or S3's "one auth mechanism" rule; this is a small node:http
// forwarder whose faults are keyed on request paths.
//
// Faults (checked in order; `times` counts the requests a fault has been applied to):
//   status          answer `status` (with Retry-After) instead of forwarding
//   cut             forward a GET, then destroy the socket after `afterBytes` bytes of the body
//   cut-upload      take `afterBytes` of a PATCH/PUT request body (after `skip` matching requests went
//                   through untouched), then drop the client's connection;
//                   with `forward: true` those bytes reach the registry first (it keeps a partial
//                   chunk), without it the registry never sees the request (a buffering proxy dropped it)
//   redirect-blobs  answer blob GETs with 302 to the "CDN" listener on 127.0.0.2, which fetches the
//                   blob from upstream (with the credentials of the redirected request, as a
//                   pre-signed URL would carry them) and answers 400 to any request that itself
//                   carries an Authorization header, as S3 does
// status and cut faults apply on the CDN too (they match on the path). Range passes through, so
// clients can resume with `Range: bytes=N-`.
import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: number; times?: number; match: RegExp }
  | { kind: 'cut'; afterBytes: number; times?: number; match: RegExp }
  | { kind: 'cut-upload'; afterBytes: number; forward?: boolean; method?: 'PATCH' | 'PUT'; times?: number; match: RegExp; skip?: number }
  | { kind: 'redirect-blobs'; times?: number; match?: RegExp };

export interface RecordedRequest {
  /** Which listener answered: the proxy itself or the CDN on 127.0.0.2. */
  via: 'proxy' | 'cdn';
  method: string;
  /** Request target as sent: path and query. */
  path: string;
  status: number;
  /** Whether the request carried an Authorization header (its value is never recorded). */
  authorization: boolean;
  range?: string;
  /** The fault applied to this request, if any. */
  fault?: Fault['kind'];
}

export interface FaultProxy {
  /** `127.0.0.1:PORT`, to use as a registry host. */
  address: string;
  /** `127.0.0.2:PORT`, the CDN that redirected blob GETs go to. */
  cdnAddress: string;
  requests: RecordedRequest[];
  /** Replace the faults (counters restart). */
  setFaults(faults: Fault[]): void;
  clearRequests(): void;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** `HOST:PORT` (or `http://HOST:PORT`) of the registry behind the proxy. */
  upstream: string;
  faults?: Fault[];
}

interface ActiveFault {
  fault: Fault;
  remaining: number;
  /** Matching requests still to let through before the fault applies (`skip`). */
  skipping: number;
}

interface Ticket {
  path: string;
  authorization?: string;
}

const BLOB_GET = /^\/v2\/.+\/blobs\/[a-z0-9]+:[a-f0-9]+/;
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const S3_AUTH_ERROR =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; ' +
  'only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified' +
  '</Message><ArgumentName>Authorization</ArgumentName></Error>';

function upstreamHostPort(upstream: string): { host: string; port: number } {
  const url = new URL(upstream.includes('://') ? upstream : `http://${upstream}`);
  return { host: url.hostname, port: url.port === '' ? 80 : Number(url.port) };
}

function forwardableHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

function matches(re: RegExp, path: string): boolean {
  re.lastIndex = 0; // a /g regex keeps state between test() calls
  return re.test(path);
}

function listen(server: Server, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = upstreamHostPort(options.upstream);
  const agent = new Agent({ keepAlive: true });
  const requests: RecordedRequest[] = [];
  const tickets = new Map<string, Ticket>();
  let active: ActiveFault[] = [];

  const setFaults = (faults: Fault[]): void => {
    active = faults.map((fault) => ({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY, skipping: 'skip' in fault ? (fault.skip ?? 0) : 0 }));
  };
  setFaults(options.faults ?? []);

  /** Takes one use of the first fault of `kind` that applies to this request. */
  const take = <K extends Fault['kind']>(
    kind: K,
    applies: (fault: Extract<Fault, { kind: K }>) => boolean,
  ): Extract<Fault, { kind: K }> | undefined => {
    for (const entry of active) {
      if (entry.fault.kind !== kind || entry.remaining <= 0) continue;
      const fault = entry.fault as Extract<Fault, { kind: K }>;
      if (!applies(fault)) continue;
      if (entry.skipping > 0) {
        entry.skipping -= 1;
        continue;
      }
      entry.remaining -= 1;
      return fault;
    }
    return undefined;
  };

  const record = (via: RecordedRequest['via'], req: IncomingMessage, status: number, fault?: Fault['kind']) => {
    const entry: RecordedRequest = {
      via,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      status,
      authorization: req.headers.authorization !== undefined,
    };
    if (typeof req.headers.range === 'string') entry.range = req.headers.range;
    if (fault !== undefined) entry.fault = fault;
    requests.push(entry);
    return entry;
  };

  const answer = (
    via: RecordedRequest['via'],
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string,
    headers: OutgoingHttpHeaders,
    fault?: Fault['kind'],
  ) => {
    req.resume(); // drain an upload body we are not forwarding
    record(via, req, status, fault);
    res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const statusFault = (via: RecordedRequest['via'], req: IncomingMessage, res: ServerResponse): boolean => {
    const path = req.url ?? '/';
    const fault = take('status', (f) => matches(f.match, path));
    if (!fault) return false;
    const headers: OutgoingHttpHeaders = { 'content-type': 'application/json' };
    if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
    const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `injected ${fault.status}` }] });
    answer(via, req, res, fault.status, body, headers, 'status');
    return true;
  };

  /** Forwards to upstream, optionally cutting the response body; `overrides` replace request fields. */
  const forward = async (
    via: RecordedRequest['via'],
    req: IncomingMessage,
    res: ServerResponse,
    overrides: { path?: string; authorization?: string | null } = {},
  ): Promise<void> => {
    const path = req.url ?? '/';
    const cut = req.method === 'GET' ? take('cut', (f) => matches(f.match, overrides.path ?? path)) : undefined;
    const headers = forwardableHeaders(req.headers);
    if (overrides.authorization === null) delete headers.authorization;
    else if (overrides.authorization !== undefined) headers.authorization = overrides.authorization;
    if (via === 'cdn') headers.host = `${upstream.host}:${upstream.port}`;

    const upReq = httpRequest({
      host: upstream.host,
      port: upstream.port,
      method: req.method,
      path: overrides.path ?? path,
      headers,
      agent,
    });
    const upRes = await new Promise<IncomingMessage>((resolve, reject) => {
      upReq.once('response', resolve);
      upReq.once('error', reject);
      pipeline(req, upReq).catch(reject);
    });
    const status = upRes.statusCode ?? 502;
    const entry = record(via, req, status, cut ? 'cut' : undefined);
    res.writeHead(status, upRes.statusMessage, forwardableHeaders(upRes.headers));
    if (!cut) {
      await pipeline(upRes, res);
      return;
    }
    // Send exactly afterBytes of the body, then drop the connection mid-body.
    let sent = 0;
    let cutting = false;
    await new Promise<void>((resolve) => {
      const finish = () => {
        upRes.destroy();
        res.destroy();
        resolve();
      };
      upRes.on('data', (chunk: Buffer) => {
        const room = cut.afterBytes - sent;
        if (chunk.length < room) {
          sent += chunk.length;
          res.write(chunk);
          return;
        }
        cutting = true;
        upRes.pause();
        res.write(chunk.subarray(0, room), () => {
          // flushed to the socket; now break it
          res.socket?.destroy();
          finish();
        });
      });
      upRes.once('end', () => {
        if (cutting) return;
        // Body shorter than afterBytes: nothing to cut; complete it normally.
        entry.fault = undefined;
        res.end();
        resolve();
      });
      upRes.once('error', finish);
    });
  };

  /** Consumes `afterBytes` of an upload body (forwarding them or not), then breaks both connections. */
  const cutUpload = async (req: IncomingMessage, fault: Extract<Fault, { kind: 'cut-upload' }>): Promise<void> => {
    record('proxy', req, 0, 'cut-upload');
    const upReq = fault.forward
      ? httpRequest({ host: upstream.host, port: upstream.port, method: req.method, path: req.url ?? '/', headers: forwardableHeaders(req.headers), agent: false })
      : undefined;
    upReq?.on('error', () => undefined);
    upReq?.on('response', (r) => r.resume());
    let seen = 0;
    await new Promise<void>((resolve) => {
      const finish = () => {
        req.off('data', onData);
        upReq?.destroy();
        req.socket.destroy();
        resolve();
      };
      const onData = (chunk: Buffer) => {
        const room = fault.afterBytes - seen;
        const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
        seen += part.length;
        if (upReq === undefined) {
          if (seen >= fault.afterBytes) finish();
          return;
        }
        req.pause();
        upReq.write(part, () => {
          if (seen >= fault.afterBytes) {
            // Let the registry read what was forwarded before the connection breaks.
            setTimeout(finish, 200);
            return;
          }
          req.resume();
        });
      };
      req.on('data', onData);
      req.once('end', finish);
      req.once('error', finish);
    });
  };

  const handle =
    (via: RecordedRequest['via'], route: (req: IncomingMessage, res: ServerResponse) => Promise<void>) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      route(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          answer(via, req, res, 502, `fault proxy: upstream failed: ${String(error)}`, { 'content-type': 'text/plain' });
        } else {
          res.destroy();
        }
      });
    };

  const cdnServer = createServer(
    handle('cdn', async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://cdn.invalid');
      if (req.headers.authorization !== undefined) {
        answer('cdn', req, res, 400, S3_AUTH_ERROR, { 'content-type': 'application/xml' });
        return;
      }
      const ticket = tickets.get(url.searchParams.get('ticket') ?? '');
      if (!ticket || ticket.path.split('?')[0] !== url.pathname) {
        answer('cdn', req, res, 403, 'AccessDenied: no such pre-signed URL', { 'content-type': 'text/plain' });
        return;
      }
      if (statusFault('cdn', req, res)) return;
      await forward('cdn', req, res, { path: ticket.path, authorization: ticket.authorization ?? null });
    }),
  );

  const cdn = await listen(cdnServer, '127.0.0.2');
  const cdnAddress = `127.0.0.2:${cdn.port}`;

  const proxyServer = createServer(
    handle('proxy', async (req, res) => {
      const path = req.url ?? '/';
      if (statusFault('proxy', req, res)) return;
      const upload = req.method === 'PATCH' || req.method === 'PUT'
        ? take('cut-upload', (f) => (f.method === undefined || f.method === req.method) && matches(f.match, path))
        : undefined;
      if (upload) {
        await cutUpload(req, upload);
        return;
      }
      const redirect =
        req.method === 'GET' && BLOB_GET.test(path)
          ? take('redirect-blobs', (f) => f.match === undefined || matches(f.match, path))
          : undefined;
      if (redirect) {
        const id = randomUUID();
        const ticket: Ticket = { path };
        if (req.headers.authorization !== undefined) ticket.authorization = req.headers.authorization;
        tickets.set(id, ticket);
        const pathname = path.split('?')[0] ?? path;
        const location = `http://${cdnAddress}${pathname}?ticket=${id}`;
        answer('proxy', req, res, 302, '', { location }, 'redirect-blobs');
        return;
      }
      await forward('proxy', req, res);
    }),
  );
  const proxy = await listen(proxyServer, '127.0.0.1');

  const closeServer = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return {
    address: `127.0.0.1:${proxy.port}`,
    cdnAddress,
    requests,
    setFaults,
    clearRequests: () => {
      requests.length = 0;
    },
    close: async () => {
      await Promise.all([closeServer(proxyServer), closeServer(cdnServer)]);
      agent.destroy();
    },
  };
}
