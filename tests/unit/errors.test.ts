import { describe, expect, it } from 'vitest';
import { KairosImgError, exitCodeOf, redact, interrupted } from '../../src/errors.js';

describe('errors', () => {
  it('maps kinds to exit codes', () => {
    expect(exitCodeOf(new KairosImgError('REGISTRY_ERROR', 'x'))).toBe(1);
    expect(exitCodeOf(new KairosImgError('BAD_REFERENCE', 'x'))).toBe(2);
    // Integrity failures are operational (1), whoever corrupted the content.
    expect(exitCodeOf(new KairosImgError('DIGEST_MISMATCH', 'x'))).toBe(1);
    expect(exitCodeOf(new KairosImgError('UNPACK_BAD_ENTRY', 'x'))).toBe(1);
    expect(exitCodeOf(interrupted())).toBe(130);
    expect(exitCodeOf(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe(130);
    expect(exitCodeOf(new Error('boom'))).toBe(1);
  });
  it('redacts credentials in messages and hints', () => {
    expect(redact('GET https://user:s3cret@quay.io/v2/')).toBe('GET https://***:***@quay.io/v2/');
    expect(redact('Authorization: Bearer abc.def.ghi')).toBe('Authorization: Bearer ***');
    expect(redact('Basic dXNlcjpwYXNz')).toBe('Basic ***');
    expect(redact('https://cdn/x?X-Amz-Signature=abcd&ok=1')).toBe('https://cdn/x?X-Amz-Signature=***&ok=1');
    expect(redact('{"token":"abc","x":1}')).toBe('{"token":"***","x":1}');
    const e = new KairosImgError('REGISTRY_ERROR', 'failed for https://a:b@h/', { hint: 'token=zzz' });
    expect(e.message).not.toContain(':b@');
    expect(e.hint).toBe('token=***');
  });
});
