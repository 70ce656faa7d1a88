// Image sources without a registry (issue 17): docker-archive (skopeo's and the real dockerd's
// `docker save`, also gzip-compressed), oci-archive, oci: layouts and docker-daemon: each unpack to
// the same tree as the registry path; pull, verify and extract-img read them; bad input gets clear
// errors naming what is there.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { testEnv } from '../helpers/env.js';
import { normalizeInodeGroups, snapshotTree, type TreeNode } from '../helpers/layers.js';
import { json, runCli } from '../helpers/cli.js';

const exec = promisify(execFile);
const env = testEnv();
let work: string;
const docker = new Docker({ socketPath: env.dockerSocket });

const LAYERS = `${env.registry}/test/layers-oci:v1`;
const OPENSUSE = `${env.registry}/kairos/core-opensuse:v1.3.2`;
const MULTI = `${env.registry}/kairos/core-opensuse:v1.4.0`;
const ARTIFACT = `${env.registry}/kairos/core-alpine-arm-rpi:v1.5.0.img`;

function cli(args: string[]) {
  return runCli(['--plain-http', ...args], { env: { KAIROS_IMG_CACHE: path.join(work, 'cache'), DOCKER_HOST: env.dockerHost } });
}

async function skopeo(...args: string[]): Promise<string> {
  return (await exec('skopeo', ['--insecure-policy', ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

async function copyTo(src: string, dest: string, ...extra: string[]): Promise<void> {
  await skopeo('copy', '-q', '--src-tls-verify=false', ...extra, `docker://${src}`, dest);
}

async function unpackTree(image: string, name: string, ...extra: string[]): Promise<{ tree: Map<string, TreeNode>; doc: Record<string, unknown> }> {
  const dir = path.join(work, `out-${name}`);
  const r = await cli(['unpack', image, dir, '--json', '-q', ...extra]);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return { tree: normalizeInodeGroups(await snapshotTree(dir)), doc: json(r) };
}

function sha256(b: Buffer | string): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** `docker save` through the real engine, written to a file. */
async function dockerSave(name: string, file: string): Promise<void> {
  const stream = (await docker.getImage(name).get()) as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  await writeFile(file, Buffer.concat(chunks));
}

beforeAll(async () => {
  await seed({ registry: env.registry, set: 'test' });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-sources-'));
  // The engine has the image the docker-daemon: and `docker save` cases read.
  const pulled = await cli(['pull', OPENSUSE, '--to', 'docker', '--json', '-q']);
  expect(pulled.code, pulled.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('each source form unpacks to the same tree as the registry path', () => {
  it('oci:, oci-archive:, docker-archive: (skopeo, plain and gzip) of an image with whiteouts, hardlinks, symlinks, long names', async () => {
    const registry = await unpackTree(LAYERS, 'reg-layers');
    expect(registry.tree.size).toBeGreaterThan(20);
    await copyTo(LAYERS, `oci:${path.join(work, 'layout')}:v1`);
    await copyTo(LAYERS, `oci-archive:${path.join(work, 'layers.oci.tar')}:v1`);
    await copyTo(LAYERS, `docker-archive:${path.join(work, 'layers.docker.tar')}:test/layers-oci:v1`);
    await writeFile(path.join(work, 'layers.docker.tar.gz'), gzipSync(await readFile(path.join(work, 'layers.docker.tar'))));
    const forms = [
      `oci:${path.join(work, 'layout')}:v1`,
      `oci:${path.join(work, 'layout')}`,
      `oci-archive:${path.join(work, 'layers.oci.tar')}:v1`,
      `docker-archive:${path.join(work, 'layers.docker.tar')}`,
      `docker-archive:${path.join(work, 'layers.docker.tar')}:test/layers-oci:v1`,
      `docker-archive:${path.join(work, 'layers.docker.tar')}:@0`,
      `docker-archive:${path.join(work, 'layers.docker.tar.gz')}`,
    ];
    for (const [i, form] of forms.entries()) {
      const got = await unpackTree(form, `layers-${i}`);
      expect(got.doc.reference, form).toBe(form);
      expect(got.doc.fromCache).toBe(false);
      expect([...got.tree], form).toEqual([...registry.tree]);
    }
    // A local source is read in place: nothing of it lands in the cache, no spool is left behind.
    const cacheEntries = await readdir(path.join(work, 'cache'));
    expect(cacheEntries.filter((n) => n.includes('spool'))).toEqual([]);
  }, 180_000);

  it('docker-archive: of the real dockerd\'s docker save (plain and gzip) and docker-daemon:', async () => {
    const registry = await unpackTree(OPENSUSE, 'reg-opensuse');
    const saved = path.join(work, 'saved.tar');
    await dockerSave(OPENSUSE, saved);
    await writeFile(`${saved}.gz`, gzipSync(await readFile(saved)));
    for (const [i, form] of [`docker-archive:${saved}`, `docker-archive:${saved}.gz`, `docker-archive:${saved}:${OPENSUSE}`, `docker-daemon:${OPENSUSE}`].entries()) {
      const got = await unpackTree(form, `saved-${i}`);
      expect([...got.tree], form).toEqual([...registry.tree]);
      expect(got.doc.platform).toBe('linux/amd64');
    }
  }, 180_000);

  it('a multi-arch layout picks the platform asked for, as the registry does', async () => {
    await copyTo(MULTI, `oci:${path.join(work, 'multi')}:v1.4.0`, '--all');
    for (const arch of ['amd64', 'arm64']) {
      const registry = await unpackTree(MULTI, `reg-multi-${arch}`, '--arch', arch);
      const got = await unpackTree(`oci:${path.join(work, 'multi')}:v1.4.0`, `multi-${arch}`, '--arch', arch);
      expect(got.doc.platform).toBe(registry.doc.platform);
      expect(got.doc.digest).toBe(registry.doc.digest);
      expect([...got.tree]).toEqual([...registry.tree]);
    }
  }, 180_000);
});

describe('the rest of the tool reads sources alike', () => {
  it('a docker-archive is seen as the schema 2 manifest skopeo synthesizes (same config and layer descriptors)', async () => {
    const file = path.join(work, 'layers.docker.tar');
    if (!existsSync(file)) await copyTo(LAYERS, `docker-archive:${file}:test/layers-oci:v1`);
    const theirs = JSON.parse(await skopeo('inspect', '--raw', `docker-archive:${file}`)) as { config: unknown; layers: Array<{ digest: string; size: number }> };
    const dest = path.join(work, 'from-archive');
    const r = await cli(['pull', `docker-archive:${file}`, '--to', `oci:${dest}:v1`, '--json', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const doc = json<{ digest: string; layout: { manifestDigest: string } }>(r);
    const ours = JSON.parse((await readFile(path.join(work, 'cache', 'blobs', 'sha256', doc.digest.slice(7)))).toString('utf8')) as typeof theirs;
    expect(ours.config).toEqual(theirs.config);
    expect(ours.layers.map((l) => [l.digest, l.size])).toEqual(theirs.layers.map((l) => [l.digest, l.size]));
    // The exported layout is one skopeo reads back, with the same layer digests.
    const back = JSON.parse(await skopeo('inspect', '--raw', `oci:${dest}:v1`)) as typeof theirs;
    expect(back.layers.map((l) => l.digest)).toEqual(theirs.layers.map((l) => l.digest));
    expect(sha256(await readFile(path.join(dest, 'blobs', 'sha256', doc.layout.manifestDigest.slice(7))))).toBe(doc.layout.manifestDigest);
  }, 120_000);

  it('verify judges the name a docker-archive carries, without a registry tag list', async () => {
    const file = path.join(work, 'opensuse-140.tar');
    await copyTo(MULTI, `docker-archive:${file}:quay.io/kairos/core-opensuse:v1.4.0`, '--override-arch', 'amd64');
    const r = await cli(['verify', `docker-archive:${file}`, '--json', '-q']);
    const doc = json<{ reference: string; checks: Array<{ id: string; ok: boolean | 'skipped' }> }>(r);
    expect(doc.reference).toBe(`docker-archive:${file}`);
    const byId = Object.fromEntries(doc.checks.map((c) => [c.id, c.ok]));
    expect(byId['tag-grammar']).toBe(true);
    expect(byId['kairos-release']).toBe(true);
    expect(byId['arch']).toBe(true);
    expect(byId['support']).toBe('skipped');
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('extract-img reads a disk-image artifact out of an oci-archive, checksum verified', async () => {
    const file = path.join(work, 'artifact.tar');
    await copyTo(ARTIFACT, `oci-archive:${file}:v1.5.0.img`);
    const out = path.join(work, 'build');
    const r = await cli(['extract-img', `oci-archive:${file}`, '--out', out, '--json', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const doc = json<{ files: Array<{ role: string; verified: boolean; path: string }> }>(r);
    const image = doc.files.find((f) => f.role === 'image');
    expect(image?.verified).toBe(true);
    expect(existsSync(image?.path ?? '')).toBe(true);
  }, 120_000);
});

describe('diff reads sources too', () => {
  it('a docker save of an image against the registry image: the same release, the same packages', async () => {
    const saved = path.join(work, 'saved.tar');
    if (!existsSync(saved)) await dockerSave(OPENSUSE, saved);
    const r = await cli(['diff', `docker-archive:${saved}`, OPENSUSE, '--json', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const d = json<{ a: { reference: string; release: Record<string, string> }; b: { reference: string; release: Record<string, string> } }>(r);
    expect(d.a.reference).toBe(`docker-archive:${saved}`);
    expect(d.b.reference).toBe(OPENSUSE);
    expect(d.a.release['VERSION']).toBe('v1.3.2');
    expect(d.a.release).toEqual(d.b.release);
  });
});

describe('bad input gets a clear error naming what is there', () => {
  const code = (r: { stdout: string }): string => (json<{ error: { code: string } }>(r as never)).error.code;
  const message = (r: { stdout: string }): string => (json<{ error: { message: string } }>(r as never)).error.message;

  it('a file that is not a tar, a missing file, a directory, a layout that is a file', async () => {
    const text = path.join(work, 'notes.txt');
    await writeFile(text, 'these are not the layers you are looking for\n'.repeat(20));
    let r = await cli(['unpack', `docker-archive:${text}`, path.join(work, 'bad1'), '--json', '-q']);
    expect(r.code).toBe(2);
    expect(code(r)).toBe('NOT_AN_ARCHIVE');
    expect(message(r)).toContain('starts with text "these are not');
    r = await cli(['unpack', `oci-archive:${path.join(work, 'nope.tar')}`, path.join(work, 'bad2'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([2, 'SOURCE_NOT_FOUND']);
    r = await cli(['unpack', `docker-archive:${work}`, path.join(work, 'bad3'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([2, 'NOT_AN_ARCHIVE']);
    expect(message(r)).toContain(`oci:${work}`);
    r = await cli(['unpack', `oci:${text}`, path.join(work, 'bad4'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([2, 'NOT_A_LAYOUT']);
    for (const d of ['bad1', 'bad2', 'bad3', 'bad4']) expect(existsSync(path.join(work, d))).toBe(false);
  });

  it('a docker save read as an oci-archive, and the other way round, say what the file is', async () => {
    const saved = path.join(work, 'saved.tar');
    if (!existsSync(saved)) await dockerSave(OPENSUSE, saved);
    let r = await cli(['unpack', `oci-archive:${saved}`, path.join(work, 'bad5'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([2, 'NOT_A_LAYOUT']);
    expect(message(r)).toContain('manifest.json');
    const oa = path.join(work, 'layers.oci.tar');
    if (!existsSync(oa)) await copyTo(LAYERS, `oci-archive:${oa}:v1`);
    r = await cli(['unpack', `docker-archive:${oa}`, path.join(work, 'bad6'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([2, 'NOT_AN_ARCHIVE']);
    expect(json<{ error: { hint: string } }>(r).error.hint).toContain(`oci-archive:${oa}`);
  });

  it('a missing tag names the tags there; several images without a name lists them', async () => {
    const layout = path.join(work, 'layout2');
    await copyTo(LAYERS, `oci:${layout}:v1`);
    await copyTo(OPENSUSE, `oci:${layout}:v1.3.2`);
    let r = await cli(['unpack', `oci:${layout}:v9`, path.join(work, 'bad7'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([2, 'IMAGE_NOT_IN_SOURCE']);
    expect(message(r)).toMatch(/no image named v9; it has v1, v1\.3\.2/);
    r = await cli(['unpack', `oci:${layout}`, path.join(work, 'bad8'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([2, 'AMBIGUOUS_SOURCE']);
    expect(message(r)).toContain('v1, v1.3.2');

    // Two images in one docker-archive (as `docker save a b` writes), neither named on the command line.
    const saved = path.join(work, 'saved.tar');
    if (!existsSync(saved)) await dockerSave(OPENSUSE, saved);
    const dir = path.join(work, 'two');
    await mkdir(dir, { recursive: true });
    await exec('tar', ['-xf', saved, '-C', dir]);
    const entries = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Array<{ RepoTags: string[] }>;
    const first = entries[0] as { RepoTags: string[] };
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify([first, { ...first, RepoTags: ['quay.io/kairos/other:v2'] }]));
    const two = path.join(work, 'two.tar');
    await exec('tar', ['-cf', two, '-C', dir, '.']);
    r = await cli(['unpack', `docker-archive:${two}`, path.join(work, 'bad9'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([2, 'AMBIGUOUS_SOURCE']);
    expect(message(r)).toContain(`@0 (${OPENSUSE})`);
    expect(message(r)).toContain('@1 (quay.io/kairos/other:v2)');
    r = await cli(['unpack', `docker-archive:${two}:quay.io/kairos/missing:v1`, path.join(work, 'bad10'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([2, 'IMAGE_NOT_IN_SOURCE']);
    const named = await cli(['unpack', `docker-archive:${two}:quay.io/kairos/other:v2`, path.join(work, 'two-out'), '--json', '-q']);
    expect(named.code, named.stderr).toBe(0);
  });

  it('a truncated archive and a layer that does not match its digest fail, and leave nothing', async () => {
    const saved = path.join(work, 'saved.tar');
    if (!existsSync(saved)) await dockerSave(OPENSUSE, saved);
    const cut = path.join(work, 'cut.tar');
    await writeFile(cut, await readFile(saved));
    await truncate(cut, 6000);
    let r = await cli(['unpack', `docker-archive:${cut}`, path.join(work, 'bad11'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([1, 'ARCHIVE_CORRUPT']);
    expect(message(r)).toContain('truncated');

    // One byte of a layer changed inside the archive — in the end-of-archive padding of the layer
    // tar, so the tar itself still reads: only the diff ID check can catch it.
    const listing = (await exec('tar', ['-tvRf', saved])).stdout;
    const line = listing.split('\n').find((l) => l.endsWith('/layer.tar'));
    const m = /^block (\d+): \S+ \S+\s+(\d+) /.exec(line ?? '');
    expect(m).not.toBeNull();
    const last = (Number(m?.[1]) + 1) * 512 + Number(m?.[2]) - 1;
    const flipped = Buffer.from(await readFile(saved));
    flipped[last] = (flipped[last] ?? 0) ^ 0xff;
    const bad = path.join(work, 'flipped.tar');
    await writeFile(bad, flipped);
    r = await cli(['unpack', `docker-archive:${bad}`, path.join(work, 'bad12'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([1, 'DIGEST_MISMATCH']);
    expect(existsSync(path.join(work, 'bad12'))).toBe(false);
    expect((await readdir(work)).filter((n) => n.startsWith('.bad12'))).toEqual([]);
  });

  it('malformed transports are usage errors', async () => {
    for (const [arg, want] of [['docker-archive:', 'BAD_SOURCE'], ['oci-archive:x.tar:', 'BAD_SOURCE'], ['docker-archive:x.tar:@x', 'BAD_SOURCE'], ['docker-daemon:', 'BAD_SOURCE']] as const) {
      const r = await cli(['unpack', arg, path.join(work, 'bad13'), '--json', '-q']);
      expect([arg, r.code, code(r)]).toEqual([arg, 2, want]);
    }
    const r = await cli(['unpack', `docker-daemon:${env.registry}/kairos/not-in-engine:v1`, path.join(work, 'bad14'), '--json', '-q']);
    expect([r.code, code(r)]).toEqual([1, 'ENGINE_IMAGE_MISSING']);
  });
});
