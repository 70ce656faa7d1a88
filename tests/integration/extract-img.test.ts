// extract-img against the real registry seeded with Kairos-shaped artifacts of every era: the built
// CLI is run as a user runs it, and what lands in --out is hashed here independently.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed, type SeededImage } from '../../scripts/fixtures/seed.mjs';
import { testEnv } from '../helpers/env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/kairos-img');
const STANDIN = path.join(ROOT, 'tests/helpers/luet-standin');
const env = testEnv();
let records: SeededImage[] = [];
let tmp = '';

interface FileOut { path: string; size: number; sha256: string; verified: boolean; checksum: string; role: string; rawSha256?: string; rawSize?: number; compression?: string }
interface Summary { reference: string; digest: string; engine: string; files: FileOut[]; next?: string; resolution?: { arch: string; version: string } }

function facts(repoTag: string): SeededImage {
  const r = records.find((x) => `${x.repository}:${x.tag}` === repoTag);
  if (r === undefined) throw new Error(`fixture ${repoTag} is not seeded`);
  return r;
}

async function cli(args: string[], extraEnv: Record<string, string> = {}) {
  return execa('node', [BIN, '--registry', env.registry, '--plain-http', ...args], {
    reject: false,
    cwd: tmp,
    env: { KAIROS_IMG_CACHE: path.join(tmp, 'cache'), NO_COLOR: '1', CI: '1', ...extraEnv },
  });
}

async function sha256File(p: string): Promise<string> {
  return createHash('sha256').update(await readFile(p)).digest('hex');
}

async function extractJson(args: string[], out: string, extraEnv: Record<string, string> = {}): Promise<Summary> {
  const r = await cli(['extract-img', ...args, '--out', out, '--json'], extraEnv);
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Summary;
}

/** Every file the summary names exists with the stated size and sha256, and nothing else is in --out. */
async function expectOnDisk(s: Summary, out: string): Promise<void> {
  for (const f of s.files) {
    expect((await stat(f.path)).size).toBe(f.size);
    expect(await sha256File(f.path)).toBe(f.sha256);
  }
  expect((await readdir(out)).sort()).toEqual(s.files.map((f) => path.basename(f.path)).sort());
}

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('build the CLI first: npx tsc -p tsconfig.build.json');
  records = await seed({ registry: env.registry, set: 'test', log: () => undefined });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kimg-extract-img-'));
});

afterAll(async () => {
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('extract-img, every era', () => {
  it('v1: <tag>.img in the same repository, by flavor (default variant core), verified', async () => {
    const f = facts('kairos/core-alpine-arm-rpi:v1.5.0.img').facts;
    const out = path.join(tmp, 'v1');
    const s = await extractJson(['alpine-arm-rpi', '--version', 'v1.5.0'], out);
    expect(s.reference).toBe(`${env.registry}/kairos/core-alpine-arm-rpi:v1.5.0.img`);
    expect(s.digest).toBe(facts('kairos/core-alpine-arm-rpi:v1.5.0.img').digest);
    const img = s.files.find((x) => x.role === 'image');
    expect(img).toMatchObject({ verified: true, checksum: 'verified', compression: 'xz', rawSha256: f.rawSha256, rawSize: f.rawSize, sha256: f.xzSha256 });
    expect(path.basename(img?.path ?? '')).toBe(`${f.name}.img.xz`);
    expect(s.next).toContain('| sudo dd of=/dev/sdX bs=4M conv=fsync');
    await expectOnDisk(s, out);
  });

  it('v2.0 – v2.4.1: the core-<flavor>-img repository', async () => {
    const rec = facts('kairos/core-opensuse-arm-rpi-img:v2.3.0');
    const out = path.join(tmp, 'v2');
    const s = await extractJson(['opensuse-arm-rpi', 'core', '--version', 'v2.3.0'], out);
    expect(s.reference).toBe(`${env.registry}/kairos/core-opensuse-arm-rpi-img:v2.3.0`);
    expect(s.digest).toBe(rec.digest);
    expect(s.files.find((x) => x.role === 'image')).toMatchObject({ verified: true, rawSha256: rec.facts.rawSha256 });
    await expectOnDisk(s, out);
  });

  it('v2.4.2+: <tag>-img with the v2.4 companions', async () => {
    const rec = facts('kairos/opensuse:leap-15.5-core-arm64-rpi4-v2.4.3-img');
    const out = path.join(tmp, 'v24');
    const s = await extractJson(['opensuse-arm-rpi', '--version', 'v2.4.3', '--model', 'rpi4'], out);
    expect(s.reference).toBe(`${env.registry}/kairos/opensuse:leap-15.5-core-arm64-rpi4-v2.4.3-img`);
    expect(s.files.map((x) => path.basename(x.path)).sort()).toEqual((rec.facts.files ?? []).map((p) => path.basename(p)).sort());
    expect(s.files.find((x) => x.role === 'image')).toMatchObject({ verified: true, rawSha256: rec.facts.rawSha256 });
    expect(await readFile(path.join(out, 'VERSION'), 'utf8')).toBe('v2.4.3\n');
    await expectOnDisk(s, out);
  });

  it('v3.4+: a FROM scratch artifact with the files at the root, by full reference', async () => {
    const rec = facts('kairos/opensuse:leap-15.6-core-arm64-rpi4-v3.4.2-img');
    const out = path.join(tmp, 'v34');
    const s = await extractJson([rec.ref], out);
    expect(s.digest).toBe(rec.digest);
    expect(s.files.find((x) => x.role === 'image')).toMatchObject({ verified: true, rawSha256: rec.facts.rawSha256 });
    await expectOnDisk(s, out);
  });

  it('the newest release when no --version is given', async () => {
    const s = await extractJson(['alpine-arm-rpi'], path.join(tmp, 'newest'));
    expect(s.reference).toBe(`${env.registry}/kairos/core-alpine-arm-rpi:v1.5.0.img`);
  });
});

describe('verification', () => {
  it('checksum mismatch: exit 1, both digests named, nothing left in --out', async () => {
    const rec = facts('test/rpi-badsum:v1.5.0.img');
    const out = path.join(tmp, 'badsum');
    await mkdir(out);
    await writeFile(path.join(out, 'mine.txt'), 'not ours\n');
    const r = await cli(['extract-img', rec.ref, '--out', out]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(rec.facts.rawSha256 ?? 'missing fact');
    const claimed = /says ([0-9a-f]{64})/.exec(r.stderr)?.[1];
    expect(claimed).toMatch(/^[0-9a-f]{64}$/);
    expect(claimed).not.toBe(rec.facts.rawSha256);
    expect(await readdir(out)).toEqual(['mine.txt']);
    // An --out this run had to create is gone too.
    const fresh = path.join(tmp, 'badsum-fresh', 'sub');
    expect((await cli(['extract-img', rec.ref, '--out', fresh])).exitCode).toBe(1);
    expect(existsSync(path.join(tmp, 'badsum-fresh'))).toBe(false);
  });

  it('no checksum file: unverified, not an error', async () => {
    const rec = facts('test/rpi-nosum:v1.5.0.img');
    const out = path.join(tmp, 'nosum');
    const s = await extractJson([rec.ref], out);
    expect(s.files).toHaveLength(1);
    expect(s.files[0]).toMatchObject({ verified: false, checksum: 'unverified', rawSha256: rec.facts.rawSha256 });
    const human = await cli(['extract-img', rec.ref, '--out', path.join(tmp, 'nosum-human')]);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toContain('unverified');
  });

  it('--decompress writes exactly the raw bytes', async () => {
    const rec = facts('kairos/core-alpine-arm-rpi:v1.5.0.img');
    const out = path.join(tmp, 'raw');
    const s = await extractJson([rec.ref, '--decompress'], out);
    const img = s.files.find((x) => x.role === 'image');
    expect(path.basename(img?.path ?? '')).toBe(`${rec.facts.name}.img`);
    expect(img).toMatchObject({ verified: true, size: rec.facts.rawSize, sha256: rec.facts.rawSha256 });
    expect(await sha256File(img?.path ?? '')).toBe(rec.facts.rawSha256);
    expect(s.next).toBe(`sudo dd if=${img?.path ?? ''} of=/dev/sdX bs=4M conv=fsync status=progress`);
    await expectOnDisk(s, out);
  });
});

describe('resolution', () => {
  it('a missing artifact: a clear error listing the artifact tags that exist', async () => {
    const out = path.join(tmp, 'missing');
    const r = await cli(['extract-img', 'alpine-arm-rpi', '--version', 'v1.4.0', '--out', out]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('kairos/core-alpine-arm-rpi:v1.4.0.img');
    expect(r.stderr).toContain('artifact tags in');
    expect(r.stderr).toContain('v1.5.0.img');
    expect(r.stderr).not.toMatch(/v1\.5\.0(?!\.img)/);
    expect(existsSync(out)).toBe(false);
  });

  it('arm64-only flavors resolve to arm64 on an amd64 host, and refuse --arch amd64', async () => {
    const s = await extractJson(['alpine-arm-rpi', '--version', 'v1.5.0'], path.join(tmp, 'arch'));
    expect(s.resolution?.arch).toBe('arm64');
    const r = await cli(['extract-img', 'alpine-arm-rpi', '--version', 'v1.5.0', '--arch', 'amd64', '--out', path.join(tmp, 'arch2')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('arm64');
  });
});

describe('--via luet (against the stand-in luet: skopeo + umoci)', () => {
  const luetEnv = (log: string): Record<string, string> => ({ PATH: `${STANDIN}:${process.env.PATH ?? ''}`, LUET_STANDIN_LOG: log });

  it('runs luet util unpack and verifies what it produced the same way', async () => {
    const rec = facts('kairos/core-alpine-arm-rpi:v1.5.0.img');
    const out = path.join(tmp, 'luet');
    const log = path.join(tmp, 'luet.log');
    const s = await extractJson(['alpine-arm-rpi', '--version', 'v1.5.0', '--via', 'luet', '--decompress'], out, luetEnv(log));
    expect(s.engine).toBe('luet');
    expect(await readFile(log, 'utf8')).toContain(`util unpack ${env.registry}/kairos/core-alpine-arm-rpi@${rec.digest} `);
    expect(s.files.find((x) => x.role === 'image')).toMatchObject({ verified: true, sha256: rec.facts.rawSha256, size: rec.facts.rawSize });
    await expectOnDisk(s, out);
  });

  it('a scratch artifact through luet', async () => {
    const rec = facts('kairos/opensuse:leap-15.6-core-arm64-rpi4-v3.4.2-img');
    const out = path.join(tmp, 'luet-scratch');
    const s = await extractJson([rec.ref, '--via', 'luet'], out, luetEnv(path.join(tmp, 'luet2.log')));
    expect(s.files.find((x) => x.role === 'image')).toMatchObject({ verified: true, rawSha256: rec.facts.rawSha256 });
    await expectOnDisk(s, out);
  });

  it('a checksum mismatch through luet leaves nothing behind', async () => {
    const out = path.join(tmp, 'luet-bad');
    const r = await cli(['extract-img', facts('test/rpi-badsum:v1.5.0.img').ref, '--via', 'luet', '--out', out], luetEnv(path.join(tmp, 'luet3.log')));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('does not match');
    expect(existsSync(out)).toBe(false);
  });

  it('neither luet nor Docker: an error naming both', async () => {
    const r = await cli(['extract-img', facts('kairos/core-alpine-arm-rpi:v1.5.0.img').ref, '--via', 'luet', '--out', path.join(tmp, 'luet-none')],
      { PATH: path.dirname(process.execPath), DOCKER_HOST: `unix://${tmp}/no-docker.sock` });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('luet');
    expect(r.stderr).toContain('quay.io/luet/base');
    expect(r.stderr).toContain('Docker');
  });
});
