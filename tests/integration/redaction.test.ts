// Secrets a hostile (or merely careless) server echoes back never reach any output: a registry and
// token server on loopback that repeat the password, the Basic credentials' bare base64 and the
// bearer token they received in their error messages. The built CLI runs against them with
// credentials from a DOCKER_CONFIG; stdout, stderr (plain, verbose, --json) and GITHUB_OUTPUT are
// searched for every form of every secret.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const USER = 'alice';
const PASSWORD = 'hunter2-Very-Secret';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';

let server: Server;
let host: string;
let work: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      // Accepts the Basic credentials, and answers with a token.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: TOKEN, expires_in: 300 }));
      return;
    }
    if (!auth.startsWith('Bearer ')) {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="hostile"`, 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    // The echo: every form of what was received, without the "Bearer"/"Basic" prefixes the patterns know.
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: `denied token ${auth.slice(7)} issued for ${BASIC} (${USER}/${PASSWORD})` }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-redact-'));
  await writeFile(path.join(work, 'config.json'), JSON.stringify({ auths: { [host]: { auth: BASIC } } }));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(work, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.resolve('bin/kairos-img'), ...args], {
      env: { PATH: process.env.PATH, HOME: work, CI: '1', DOCKER_CONFIG: work, KAIROS_IMG_CACHE: path.join(work, 'cache'), GITHUB_OUTPUT: path.join(work, 'out') },
    }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), stdout, stderr }));
  });
}

const FORMS = [PASSWORD, BASIC, BASIC.replace(/=+$/, ''), TOKEN, `${USER}:${PASSWORD}`];

describe('redaction by value', () => {
  for (const mode of [[], ['--json'], ['-v']]) {
    it(`masks every echoed secret (${mode.join(' ') || 'plain'})`, async () => {
      const r = await run(['pull', `${host}/kairos/core-opensuse:v1.4.0`, '--plain-http', ...mode]);
      expect(r.code).toBe(1);
      const all = `${r.stdout}\n${r.stderr}\n${await readFile(path.join(work, 'out'), 'utf8').catch(() => '')}`;
      // The server's message did arrive (masked), so the test would see a leak.
      expect(all).toMatch(/denied token \*\*\*/);
      for (const f of FORMS) expect(all).not.toContain(f);
      if (mode.includes('--json')) {
        const doc = JSON.parse(r.stdout) as { error: { code: string; details?: Record<string, unknown> } };
        expect(doc.error.code).toBeDefined();
      }
    });
  }
});
