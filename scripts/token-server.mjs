#!/usr/bin/env node
// A Docker registry token server for kairos-img's tests (the realm of the registry's `auth: token`).
// Why hand-written: the real ones (docker_auth, Harbor, Quay) are large services with their own
// stores; the tests need one small, dependency-free process whose grants are exactly these:
//   - repositories under `public/`: pull for anyone (anonymous, as quay.io gives);
//   - valid Basic credentials (KIMG_TOKEN_USER / KIMG_TOKEN_PASS): pull + push on every repository,
//     and the catalog;
//   - any other request gets a token without those actions (the registry then answers 401/denied);
//   - wrong Basic credentials: 401 from here.
// Tokens are RS256 JWTs whose header carries the signing certificate in `x5c`; the registry
// (distribution 2.8) verifies that chain against its `rootcertbundle`, the same self-signed cert.
//
// Usage: node token-server.mjs --listen 127.0.0.1:5003 --key KEY.pem --cert CERT.pem
//                              --issuer ISSUER --service SERVICE
// Env: KIMG_TOKEN_USER, KIMG_TOKEN_PASS, KIMG_TOKEN_TTL (seconds, default 300).
// GET /token?service=…&scope=repository:NAME:ACTIONS[&scope=…]  → {token, access_token, expires_in, issued_at}
// GET /stats → {issued}
import { createServer } from 'node:http';
import { createPrivateKey, randomUUID, sign, timingSafeEqual, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:5003' },
    key: { type: 'string' },
    cert: { type: 'string' },
    issuer: { type: 'string', default: 'kimg-test-token-server' },
    service: { type: 'string', default: 'kimg-test-registry' },
  },
});
if (!args.key || !args.cert) {
  process.stderr.write('token-server: --key and --cert are required\n');
  process.exit(2);
}

const user = process.env.KIMG_TOKEN_USER ?? '';
const pass = process.env.KIMG_TOKEN_PASS ?? '';
const ttl = Number.parseInt(process.env.KIMG_TOKEN_TTL ?? '300', 10);
const privateKey = createPrivateKey(readFileSync(args.key));
const certDerBase64 = new X509Certificate(readFileSync(args.cert)).raw.toString('base64');
const [listenHost, listenPort] = splitHostPort(args.listen);

let issued = 0;

function splitHostPort(hostPort) {
  const i = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, i), Number.parseInt(hostPort.slice(i + 1), 10)];
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function sameSecret(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** @returns {'anonymous' | 'user' | 'bad'} */
function authenticate(header) {
  if (!header) return 'anonymous';
  const m = /^Basic\s+(\S+)$/i.exec(header);
  if (!m) return 'bad';
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep < 0) return 'bad';
  return user !== '' && sameSecret(decoded.slice(0, sep), user) && sameSecret(decoded.slice(sep + 1), pass)
    ? 'user'
    : 'bad';
}

// scope grammar: type:name:actions, where name may itself contain ':' (e.g. a port), so split at
// the first and the last colon.
function parseScope(scope) {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope.slice(last + 1).split(',').filter(Boolean),
  };
}

function grant(scope, who) {
  if (scope.type === 'repository') {
    const allowed = who === 'user' ? ['pull', 'push'] : scope.name.startsWith('public/') ? ['pull'] : [];
    return { ...scope, actions: scope.actions.filter((a) => allowed.includes(a)) };
  }
  if (scope.type === 'registry' && scope.name === 'catalog' && who === 'user') {
    return { ...scope, actions: scope.actions.filter((a) => a === '*') };
  }
  return { ...scope, actions: [] };
}

function makeToken({ subject, audience, access }) {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'RS256', x5c: [certDerBase64] };
  const claims = {
    iss: args.issuer,
    sub: subject,
    aud: audience,
    exp: now + ttl,
    nbf: now - 1,
    iat: now,
    jti: randomUUID(),
    access,
  };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput), privateKey);
  return { token: `${signingInput}.${b64url(signature)}`, issuedAt: new Date(now * 1000).toISOString() };
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  if (req.method === 'GET' && url.pathname === '/stats') {
    send(res, 200, { issued });
    return;
  }
  if ((req.method === 'GET' || req.method === 'POST') && url.pathname === '/token') {
    const who = authenticate(req.headers.authorization);
    if (who === 'bad') {
      send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid credentials' }] }, {
        'www-authenticate': 'Basic realm="kimg-token"',
      });
      return;
    }
    const service = url.searchParams.get('service') ?? args.service;
    const access = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .map(parseScope)
      .filter((s) => s !== undefined)
      .map((s) => grant(s, who));
    const { token, issuedAt } = makeToken({ subject: who === 'user' ? user : '', audience: service, access });
    issued += 1;
    send(res, 200, { token, access_token: token, expires_in: ttl, issued_at: issuedAt });
    return;
  }
  send(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
});

server.listen(listenPort, listenHost, () => {
  process.stderr.write(`token-server: listening on ${listenHost}:${listenPort} (ttl ${ttl}s)\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
