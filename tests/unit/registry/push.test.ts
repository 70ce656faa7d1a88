// The pure part of the upload protocol: how much of a blob the registry says it holds.
import { describe, expect, it } from 'vitest';
import { uploadedBytes } from '../../../src/registry/push.js';

describe('uploadedBytes (Range of an upload session)', () => {
  it('reads 0-N as N+1 bytes held, with or without a bytes= prefix', () => {
    expect(uploadedBytes('0-1048575')).toBe(1048576);
    expect(uploadedBytes('bytes=0-99')).toBe(100);
  });

  it('counts no header and 0-0 (what distribution 2.8 sends for an empty session) as nothing held', () => {
    expect(uploadedBytes(undefined)).toBe(0);
    expect(uploadedBytes('0-0')).toBe(0);
  });

  it('refuses ranges that do not start at 0 or are not numbers', () => {
    expect(uploadedBytes('5-10')).toBeUndefined();
    expect(uploadedBytes('0-x')).toBeUndefined();
    expect(uploadedBytes('')).toBeUndefined();
  });
});
