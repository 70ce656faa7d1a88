import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { responseFailure } from '../../../src/registry/failures.js';
import type { HttpResponse } from '../../../src/registry/http.js';

function response(status: number, body = ''): HttpResponse {
  const stream = Readable.from([Buffer.from(body)]) as unknown as IncomingMessage;
  Object.assign(stream, { headers: {} });
  return { status, headers: {}, body: stream, url: 'http://r/v2/x' };
}

describe('registry failures', () => {
  it('a status without a rule of its own is named and gets a hint (416: a refused resume)', async () => {
    const e = await responseFailure(response(416), { registry: 'r', repository: 'x', what: 'blob sha256:abc' });
    expect(e.code).toBe('REGISTRY_ERROR');
    expect(e.message).toBe('r/x answered 416 (range not satisfiable) for blob sha256:abc');
    expect(e.hint).toMatch(/refused to resume a transfer/);
  });

  it('every status gets some hint, and the registry\'s own code and message stay in the message', async () => {
    for (const status of [400, 405, 413, 429, 500, 418]) {
      const e = await responseFailure(response(status, JSON.stringify({ errors: [{ code: 'X_CODE', message: 'said no' }] })), { registry: 'r', what: 'tag list' });
      expect(e.hint, String(status)).toBeDefined();
      expect(e.message).toContain('(X_CODE: said no)');
    }
  });
});
