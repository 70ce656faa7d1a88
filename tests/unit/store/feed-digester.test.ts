// The worker-fed digester behind the verifying stream: the digest of exactly the bytes that went
// through, in any chunking (ring wrap-arounds, chunks larger than the ring), mismatches caught
// before the end, and a stream abandoned half-read never keeps the process alive.
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { verifyingStream } from '../../../src/oci/index.js';
import { digesterFor, feedDigester, OFF_THREAD_MIN } from '../../../src/store/file-hasher.js';

const MiB = 1024 * 1024;

function chunked(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length] as number, data.length - at);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

async function through(data: Buffer, digest: string, sizes: number[]): Promise<Buffer> {
  const got: Buffer[] = [];
  await pipeline(
    Readable.from(chunked(data, sizes)),
    verifyingStream({ digest, size: data.length }, { digester: feedDigester('sha256') }),
    new Writable({ write(c: Buffer, _e, cb) { got.push(Buffer.from(c)); cb(); } }),
  );
  return Buffer.concat(got);
}

describe('feedDigester', () => {
  const data = randomBytes(11 * MiB + 12345);
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;

  it('hashes exactly what passes, in small, odd and ring-sized-or-larger chunks', async () => {
    for (const sizes of [[64 * 1024], [1, 4093, 300_001, 77], [4 * MiB], [9 * MiB, 3]]) {
      const out = await through(data, digest, sizes);
      expect(out.equals(data)).toBe(true);
    }
  });

  it('a changed byte fails the stream with DIGEST_MISMATCH before its end', async () => {
    const bad = Buffer.from(data);
    bad[7 * MiB] = (bad[7 * MiB] as number) ^ 0xff;
    await expect(through(bad, digest, [256 * 1024])).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('is used only from OFF_THREAD_MIN on', () => {
    expect(digesterFor({ digest, size: OFF_THREAD_MIN - 1 })).toBeUndefined();
    expect(digesterFor({ digest, size: OFF_THREAD_MIN })).toBeDefined();
  });

  it('a stream read half-way and left, or never read, lets the process exit', async () => {
    // The built module (npm test builds first), run in a process of its own.
    const src = path.resolve('dist/store/file-hasher.js');
    const script = `
      import { feedDigester } from ${JSON.stringify(src)};
      feedDigester('sha256'); // never fed
      const half = feedDigester('sha256');
      await half.update(Buffer.alloc(6 * 1024 * 1024, 1));
      console.log('left');
    `;
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 }, (err, stdout) => {
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stdout });
      });
      child.stdin?.end();
    });
    expect(r.stdout).toContain('left');
    expect(r.code).toBe(0);
  });
});
