// Small helpers for tests of streams and failing promises.
import { expect } from 'vitest';
import { KairosImgError } from '../../src/errors.js';

/** The whole content of a stream. */
export async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The KairosImgError a promise rejects with (the test fails when it resolves or rejects otherwise). */
export async function errorOf(p: Promise<unknown>): Promise<KairosImgError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KairosImgError);
    return e as KairosImgError;
  }
  throw new Error('expected a rejection');
}
