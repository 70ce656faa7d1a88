// A full disk is an error with a message and a hint, not a raw ENOSPC: the cache on a 512 KiB
// tmpfs (mounted by the test; the test environment runs as root, as the registry and dockerd need).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { testEnv } from '../helpers/env.js';
import { json, runCli } from '../helpers/cli.js';

const env = testEnv();
let work: string;
let small: string;
let ref: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-full-'));
  small = path.join(work, 'small');
  await mkdir(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', small]);
  const dir = path.join(work, 'layout');
  await buildImage({ dir, tag: 'v1', layers: [{ compression: 'none', entries: [{ path: 'big.bin', type: 'file', content: randomBytes(2 << 20) }] }] });
  ref = `${env.registry}/test/full-${randomBytes(4).toString('hex')}:v1`;
  await pushImage({ layoutDir: dir, tag: 'v1', dest: ref });
}, 120_000);

afterAll(async () => {
  try {
    execFileSync('umount', [small]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

describe('a full disk', () => {
  it('pull into a cache on a full filesystem: DISK_FULL with a hint, exit 1, no temporary file left', async () => {
    const cache = path.join(small, 'cache');
    const r = await runCli(['pull', ref, '--plain-http', '--json'], { env: { KAIROS_IMG_CACHE: cache } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: writing blob sha256:[0-9a-f]{64} into the cache failed: no space left on the device/m);
    expect(r.stderr).toMatch(/^hint: free space on the filesystem of /m);
    expect(json<{ error: { code: string } }>(r).error.code).toBe('DISK_FULL');
    expect((await readdir(path.join(cache, 'blobs', 'sha256'))).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
