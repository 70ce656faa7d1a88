import { describe, expect, it } from 'vitest';
import { basicHeader, parseTokenResponse, tokenDeadline } from '../../../src/registry/auth.js';
import { networkFailure, parseRegistryErrors, isLocalRegistry } from '../../../src/registry/failures.js';
import { KairosImgError } from '../../../src/errors.js';

describe('token responses', () => {
  it('accepts token or access_token, defaulting expires_in to 60 s', () => {
    expect(parseTokenResponse('{"token":"t","expires_in":300}')).toEqual({ token: 't', expiresInS: 300 });
    expect(parseTokenResponse('{"access_token":"a"}')).toEqual({ token: 'a', expiresInS: 60 });
    expect(parseTokenResponse('{"token":""}')).toBeUndefined();
    expect(parseTokenResponse('<html>')).toBeUndefined();
  });
  it('expires a cached token before the server does', () => {
    expect(tokenDeadline(0, 300)).toBe(290_000);
    expect(tokenDeadline(0, 10)).toBe(5_000);
  });
  it('builds Basic headers', () => {
    expect(basicHeader({ username: 'u', password: 'p' })).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(basicHeader({ identityToken: 'x' })).toBeUndefined();
  });
});

describe('failures', () => {
  it('reads the registry error JSON', () => {
    expect(parseRegistryErrors('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}'))
      .toEqual([{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }]);
    expect(parseRegistryErrors('oops')).toEqual([]);
  });
  it('maps refused connections and TLS errors, suggesting --plain-http only for local registries', () => {
    const refused = networkFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), { host: 'h', registry: 'h', plainHttp: false });
    expect(refused).toMatchObject({ code: 'REGISTRY_UNREACHABLE' });
    const tlsLocal = networkFailure(Object.assign(new Error('wrong version number'), { code: 'EPROTO' }), { host: '127.0.0.1:5000', registry: '127.0.0.1:5000', plainHttp: false }) as KairosImgError;
    expect(tlsLocal.code).toBe('TLS_FAILURE');
    expect(tlsLocal.hint).toContain('--plain-http');
    const tlsRemote = networkFailure(Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), { host: 'quay.io', registry: 'quay.io', plainHttp: false }) as KairosImgError;
    expect(tlsRemote.code).toBe('TLS_FAILURE');
    expect(tlsRemote.hint).not.toContain('--plain-http');
    expect(isLocalRegistry('localhost:5000')).toBe(true);
    expect(isLocalRegistry('quay.io')).toBe(false);
  });
  it('redacts tokens that reach an error message', () => {
    const e = new KairosImgError('REGISTRY_ERROR', 'GET https://cdn/x?X-Amz-Signature=abcdef&token=zzz with Bearer eyJhbGciOi.x.y failed');
    expect(e.message).not.toMatch(/abcdef|zzz|eyJhbGciOi/);
  });
});
