// `kairos-img artifact push|pull|attach|discover` against the real registries (anonymous, Basic,
// token) and the fault proxy: the manifest oras writes, field by field; round trips byte-exact;
// artifacts written here by hand in ORAS's exact shape (raw blobs and manifest, not kairos-img)
// pulled correctly; hostile titles and packed trees refused or contained with sentinels outside
// untouched; referrers through the tag schema; extract-img of a disk image pushed as an ORAS file.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarOf, type Entry } from '../../scripts/fixtures/image-builder.mjs';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { testEnv, basicAuth } from '../helpers/env.js';
import { json, runCli, type CliRun } from '../helpers/cli.js';

const env = testEnv();
const run = randomBytes(4).toString('hex');
const reg = env.registry;
let work: string;
let dockerConfig: string;

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 };

/** The CLI run in `cwd` (titles are paths relative to it), with an empty Docker config unless given. */
async function cli(cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const prev = process.cwd();
  process.chdir(cwd);
  try {
    return await runCli(['--plain-http', ...args], { env: { DOCKER_CONFIG: dockerConfig, NO_COLOR: '1', ...extra } });
  } finally {
    process.chdir(prev);
  }
}

async function dir(name: string): Promise<string> {
  const d = path.join(work, name);
  await mkdir(d, { recursive: true });
  return d;
}

// --- raw registry writes (the hand-written fixtures; not kairos-img) ------------------------------

async function rawPushBlob(registry: string, repository: string, bytes: Buffer, headers: Record<string, string> = {}): Promise<{ digest: string; size: number }> {
  const digest = sha(bytes);
  const post = await fetch(`http://${registry}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers });
  expect(post.status).toBe(202);
  const loc = new URL(post.headers.get('location') ?? '', `http://${registry}`);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream', ...headers } });
  expect(put.status).toBe(201);
  return { digest, size: bytes.length };
}

async function rawPutManifest(registry: string, repository: string, tag: string, text: string, mediaType = 'application/vnd.oci.image.manifest.v1+json'): Promise<string> {
  const res = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: text, headers: { 'content-type': mediaType } });
  expect(res.status).toBe(201);
  return sha(text);
}

async function rawManifest(registry: string, repository: string, ref: string, headers: Record<string, string> = {}): Promise<{ text: string; json: Record<string, unknown> }> {
  const res = await fetch(`http://${registry}/v2/${repository}/manifests/${ref}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json', ...headers } });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, json: JSON.parse(text) as Record<string, unknown> };
}

async function rawBlob(registry: string, repository: string, digest: string, headers: Record<string, string> = {}): Promise<Buffer> {
  const res = await fetch(`http://${registry}/v2/${repository}/blobs/${digest}`, { headers });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** The manifest `oras push` writes, spelled out here (field order as oras-go marshals it). */
function orasManifest(layers: Array<{ mediaType: string; digest: string; size: number; annotations: Record<string, string> }>, artifactType = 'application/vnd.unknown.artifact.v1'): string {
  return JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType,
    config: { ...EMPTY, data: 'e30=' }, layers, annotations: { 'org.opencontainers.image.created': '2025-06-05T04:26:57Z' },
  });
}

/** A packed directory as oras-go's tarDirectory writes it: `title` then `title/…`, no trailing slashes, uid 0. */
async function orasTar(title: string, entries: Array<Omit<Entry, 'raw'>>): Promise<Buffer> {
  const mtime = new Date('2025-01-01T00:00:00Z');
  return tarOf([
    { path: title, type: 'dir', mode: 0o755, mtime, raw: true },
    ...entries.map((e) => ({ mtime, mode: e.type === 'dir' ? 0o755 : 0o644, ...e, path: e.path, raw: true })),
  ]);
}

async function pushPackedDir(repository: string, tag: string, title: string, tar: Buffer, opts: { contentDigest?: string } = {}): Promise<void> {
  const gz = gzipSync(tar);
  const blob = await rawPushBlob(reg, repository, gz);
  await rawPushBlob(reg, repository, Buffer.from('{}'));
  await rawPutManifest(reg, repository, tag, orasManifest([{
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob,
    annotations: { 'io.deis.oras.content.digest': opts.contentDigest ?? sha(tar), 'io.deis.oras.content.unpack': 'true', 'org.opencontainers.image.title': title },
  }]));
}

async function tarEntries(tgz: Buffer): Promise<Array<{ name: string; type: string; uid: number; gid: number; uname: string; gname: string; mode: number; linkname: string | null }>> {
  const out: Array<{ name: string; type: string; uid: number; gid: number; uname: string; gname: string; mode: number; linkname: string | null }> = [];
  const ex = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, s, next) => {
      out.push({ name: h.name, type: String(h.type), uid: h.uid ?? -1, gid: h.gid ?? -1, uname: h.uname ?? '', gname: h.gname ?? '', mode: h.mode ?? 0, linkname: h.linkname ?? null });
      s.resume();
      s.on('end', next);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(gunzipSync(tgz));
  await done;
  return out;
}

/** Every path under `root` with what it is: files by content hash, links by target, modes of files. */
async function treeOf(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(path.join(root, rel))).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const abs = path.join(root, r);
      const st = await lstat(abs);
      if (st.isSymbolicLink()) out[r] = `link:${await readlink(abs)}`;
      else if (st.isDirectory()) {
        out[r] = 'dir';
        await walk(r);
      } else out[r] = `file:${(st.mode & 0o777).toString(8)}:${sha(await readFile(abs))}`;
    }
  };
  await walk('');
  return out;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-artifact-'));
  dockerConfig = await dir('docker-empty');
});

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('push writes the manifest oras push writes; pull brings it back byte-exact', () => {
  const repo = `kimg-art-${run}/bundle`;
  const ref = `${reg}/${repo}:v1`;
  let src: string;
  let pushed: { reference: string; digest: string; layers: Array<{ title: string; how: string; digest: string }> };
  let disk: Buffer;
  let notes: Buffer;
  let outputs: string;
  let summary: string;

  beforeAll(async () => {
    src = await dir('src');
    disk = randomBytes(2 * 1024 * 1024 + 7);
    notes = Buffer.from('release notes <&> "quoted"\n');
    await writeFile(path.join(src, 'disk.img'), disk);
    await writeFile(path.join(src, 'notes.txt'), notes);
    const p = path.join(src, 'payload');
    await mkdir(path.join(p, 'sub', 'deep'), { recursive: true });
    await mkdir(path.join(p, 'empty'));
    await writeFile(path.join(p, 'a.bin'), randomBytes(300_000));
    await writeFile(path.join(p, 'sub', 'deep', 'b.txt'), 'b\n');
    await writeFile(path.join(p, 'exec.sh'), '#!/bin/sh\necho hi\n');
    await chmod(path.join(p, 'exec.sh'), 0o755);
    await symlink('a.bin', path.join(p, 'link'));
    outputs = path.join(work, 'push-output');
    summary = path.join(work, 'push-summary');
    await writeFile(outputs, '');
    await writeFile(summary, '');
    const r = await cli(src, ['artifact', 'push', ref, 'disk.img:application/vnd.example.disk+raw', './payload/', 'notes.txt',
      '--artifact-type', 'application/vnd.example.bundle.v1', '--annotation', 'org.example.key=a=b', '--json'],
    { GITHUB_OUTPUT: outputs, GITHUB_STEP_SUMMARY: summary });
    expect(r.code, r.stderr).toBe(0);
    pushed = json(r);
  });

  it('prints the manifest digest and writes digest= and reference= step outputs and a summary', async () => {
    const m = await rawManifest(reg, repo, 'v1');
    expect(pushed.digest).toBe(sha(m.text));
    expect(pushed.reference).toBe(ref);
    const out = await readFile(outputs, 'utf8');
    expect(out).toContain(`digest=${pushed.digest}\n`);
    expect(out).toContain(`reference=${ref}\n`);
    const md = await readFile(summary, 'utf8');
    expect(md).toContain('### kairos-img artifact push');
    expect(md).toContain(pushed.digest);
    expect(md).toMatch(/\| payload\/ \| application\/vnd\.oci\.image\.layer\.v1\.tar\+gzip \|/);
  });

  it('has the shape of oras push, field by field', async () => {
    const { text, json: m } = await rawManifest(reg, repo, 'v1');
    expect(Object.keys(m)).toEqual(['schemaVersion', 'mediaType', 'artifactType', 'config', 'layers', 'annotations']);
    expect(m.schemaVersion).toBe(2);
    expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(m.artifactType).toBe('application/vnd.example.bundle.v1');
    expect(m.config).toEqual({ ...EMPTY, data: 'e30=' });
    const layers = m.layers as Array<{ mediaType: string; digest: string; size: number; annotations: Record<string, string> }>;
    expect(layers.map((l) => l.annotations['org.opencontainers.image.title'])).toEqual(['disk.img', 'payload', 'notes.txt']);
    expect(layers[0]).toEqual({ mediaType: 'application/vnd.example.disk+raw', digest: sha(disk), size: disk.length, annotations: { 'org.opencontainers.image.title': 'disk.img' } });
    expect(layers[2]).toEqual({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(notes), size: notes.length, annotations: { 'org.opencontainers.image.title': 'notes.txt' } });
    const dirLayer = layers[1] as (typeof layers)[number];
    expect(dirLayer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(Object.keys(dirLayer.annotations)).toEqual(['io.deis.oras.content.digest', 'io.deis.oras.content.unpack', 'org.opencontainers.image.title']);
    expect(dirLayer.annotations['io.deis.oras.content.unpack']).toBe('true');
    const tgz = await rawBlob(reg, repo, dirLayer.digest);
    expect(sha(tgz)).toBe(dirLayer.digest);
    expect(dirLayer.annotations['io.deis.oras.content.digest']).toBe(sha(gunzipSync(tgz)));
    const ann = m.annotations as Record<string, string>;
    expect(Object.keys(ann)).toEqual(['org.example.key', 'org.opencontainers.image.created']);
    expect(ann['org.example.key']).toBe('a=b');
    expect(ann['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Go's encoder: compact, HTML characters escaped (none here, but no spaces anywhere).
    expect(text).not.toMatch(/": /);
    // The empty config blob is in the registry.
    expect((await rawBlob(reg, repo, EMPTY.digest)).toString()).toBe('{}');
  });

  it('packs the directory as oras-go does: title first, walk order, uid/gid 0, no names, links kept', async () => {
    const { json: m } = await rawManifest(reg, repo, 'v1');
    const dirLayer = (m.layers as Array<{ digest: string }>)[1] as { digest: string };
    const entries = await tarEntries(await rawBlob(reg, repo, dirLayer.digest));
    expect(entries.map((e) => e.name.replace(/\/$/, ''))).toEqual([
      'payload', 'payload/a.bin', 'payload/empty', 'payload/exec.sh', 'payload/link', 'payload/sub', 'payload/sub/deep', 'payload/sub/deep/b.txt',
    ]);
    for (const e of entries) expect([e.uid, e.gid, e.uname, e.gname]).toEqual([0, 0, '', '']);
    expect(entries.find((e) => e.name === 'payload/link')).toMatchObject({ type: 'symlink', linkname: 'a.bin' });
    expect((entries.find((e) => e.name === 'payload/exec.sh')?.mode ?? 0) & 0o777).toBe(0o755);
  });

  it('pulls every file to DIR/<title> byte-exact, the directory unpacked with modes and links', async () => {
    const out = path.join(work, 'pulled-bundle');
    const outputsPull = path.join(work, 'pull-output');
    await writeFile(outputsPull, '');
    const r = await cli(work, ['artifact', 'pull', ref, '--out', out, '--json'], { GITHUB_OUTPUT: outputsPull });
    expect(r.code, r.stderr).toBe(0);
    const d = json<{ digest: string; files: Array<{ title: string; path: string; kind: string }> }>(r);
    expect(d.digest).toBe(pushed.digest);
    expect(d.files.map((f) => [f.title, f.kind])).toEqual([['disk.img', 'file'], ['payload', 'directory'], ['notes.txt', 'file']]);
    expect((await readFile(path.join(out, 'disk.img'))).equals(disk)).toBe(true);
    expect((await readFile(path.join(out, 'notes.txt'))).equals(notes)).toBe(true);
    expect(await treeOf(path.join(out, 'payload'))).toEqual(await treeOf(path.join(src, 'payload')));
    expect((await readdir(out)).sort()).toEqual(['disk.img', 'notes.txt', 'payload']);
    const o = await readFile(outputsPull, 'utf8');
    expect(o).toContain(`digest=${pushed.digest}\n`);
    expect(o).toContain(`path=${out}\n`);
  });

  it('pushes again without uploading what the registry has', async () => {
    const r = await cli(src, ['artifact', 'push', `${reg}/${repo}:v2`, 'disk.img', 'notes.txt', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ layers: Array<{ how: string }> }>(r).layers.map((l) => l.how)).toEqual(['exists', 'exists']);
  });

  it('refuses absolute paths and paths that leave the working directory (usage, exit 2)', async () => {
    const abs = await cli(src, ['artifact', 'push', `${reg}/${repo}:bad`, path.join(src, 'notes.txt')]);
    expect(abs.code).toBe(2);
    expect(abs.stderr).toContain('is an absolute path');
    const up = await cli(path.join(src, 'payload'), ['artifact', 'push', `${reg}/${repo}:bad`, '../notes.txt']);
    expect(up.code).toBe(2);
    expect(up.stderr).toContain('leaves the working directory');
  });
});

describe('artifacts written by hand in ORAS\'s exact shape', () => {
  it('files, including one under a directory title and one layer without a title (skipped)', async () => {
    const repo = `kimg-art-${run}/handmade-files`;
    const a = Buffer.from('alpha\n');
    const b = randomBytes(50_000);
    const untitled = Buffer.from('no title');
    const la = await rawPushBlob(reg, repo, a);
    const lb = await rawPushBlob(reg, repo, b);
    const lu = await rawPushBlob(reg, repo, untitled);
    await rawPushBlob(reg, repo, Buffer.from('{}'));
    const digest = await rawPutManifest(reg, repo, 'v1', orasManifest([
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', ...la, annotations: { 'org.opencontainers.image.title': 'alpha.txt' } },
      { mediaType: 'application/octet-stream', ...lb, annotations: { 'org.opencontainers.image.title': 'nested/dir/b.bin' } },
      { mediaType: 'application/octet-stream', ...lu, annotations: {} },
    ]));
    const out = path.join(work, 'handmade-files');
    const r = await cli(work, ['artifact', 'pull', `${reg}/${repo}:v1`, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = json<{ digest: string; skipped: Array<{ digest: string }> }>(r);
    expect(d.digest).toBe(digest);
    expect(d.skipped.map((s) => s.digest)).toEqual([lu.digest]);
    expect(await readFile(path.join(out, 'alpha.txt'), 'utf8')).toBe('alpha\n');
    expect((await readFile(path.join(out, 'nested/dir/b.bin'))).equals(b)).toBe(true);
    expect(await treeOf(out)).toEqual({
      'alpha.txt': `file:644:${la.digest}`, nested: 'dir', 'nested/dir': 'dir', 'nested/dir/b.bin': `file:644:${lb.digest}`,
    });
  });

  it('a packed directory (gzip of a tar named title/…, uncompressed digest annotated), with a hard link inside it', async () => {
    const repo = `kimg-art-${run}/handmade-dir`;
    const tar = await orasTar('build/out', [
      { path: 'build/out/kairos.img', type: 'file', content: 'disk image bytes' },
      { path: 'build/out/same.img', type: 'hardlink', linkname: 'build/out/kairos.img' },
      { path: 'build/out/sub', type: 'dir' },
      { path: 'build/out/sub/readme', type: 'file', content: 'read me\n', mode: 0o600 },
      { path: 'build/out/latest', type: 'symlink', linkname: 'kairos.img' },
    ]);
    // oras' title of a nested directory keeps its parents: the archive starts with "build/out".
    await pushPackedDir(repo, 'v1', 'build/out', tar);
    const out = path.join(work, 'handmade-dir');
    const r = await cli(work, ['artifact', 'pull', `${reg}/${repo}:v1`, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const tree = await treeOf(out);
    expect(tree).toEqual({
      build: 'dir', 'build/out': 'dir',
      'build/out/kairos.img': `file:644:${sha('disk image bytes')}`, 'build/out/same.img': `file:644:${sha('disk image bytes')}`,
      'build/out/latest': 'link:kairos.img', 'build/out/sub': 'dir', 'build/out/sub/readme': `file:600:${sha('read me\n')}`,
    });
    const a = await stat(path.join(out, 'build/out/kairos.img'));
    const b = await stat(path.join(out, 'build/out/same.img'));
    expect(a.ino).toBe(b.ino);
  });

  it('a wrong io.deis.oras.content.digest is refused with nothing left', async () => {
    const repo = `kimg-art-${run}/handmade-wrong-digest`;
    const tar = await orasTar('data', [{ path: 'data/x', type: 'file', content: 'x' }]);
    await pushPackedDir(repo, 'v1', 'data', tar, { contentDigest: sha('something else') });
    const parent = await dir('wrong-digest');
    const out = path.join(parent, 'out');
    const r = await cli(work, ['artifact', 'pull', `${reg}/${repo}:v1`, '--out', out, '--json']);
    expect(r.code).toBe(1);
    expect(json<{ error: { code: string } }>(r).error.code).toBe('DIGEST_MISMATCH');
    expect(await readdir(parent)).toEqual([]);
  });
});

describe('hostile titles and packed trees', () => {
  let parent: string;
  let sentinel: string;
  const SENTINEL = 'sentinel: must stay as it is\n';

  beforeAll(async () => {
    parent = await dir('hostile');
    sentinel = path.join(parent, 'sentinel.txt');
    await writeFile(sentinel, SENTINEL);
  });

  /** The sentinel beside the output directory is as it was (content, no extra hard link), and no output was left. */
  async function expectUntouched(): Promise<void> {
    expect(await readFile(sentinel, 'utf8')).toBe(SENTINEL);
    expect((await stat(sentinel)).nlink).toBe(1);
    expect(await readdir(parent)).toEqual(['sentinel.txt']);
  }

  async function titled(repository: string, title: string): Promise<void> {
    const blob = await rawPushBlob(reg, repository, Buffer.from('pwned\n'));
    await rawPushBlob(reg, repository, Buffer.from('{}'));
    await rawPutManifest(reg, repository, 'v1', orasManifest([{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...blob, annotations: { 'org.opencontainers.image.title': title } }]));
  }

  for (const [name, title] of [['dotdot', '../sentinel.txt'], ['absolute', '/tmp/kimg-pwned.txt'], ['deep-dotdot', 'a/../../sentinel.txt']] as const) {
    it(`refuses the title ${title} before writing anything (exit 1)`, async () => {
      const repo = `kimg-art-${run}/hostile-${name}`;
      await titled(repo, title);
      const out = path.join(parent, 'out');
      const r = await cli(work, ['artifact', 'pull', `${reg}/${repo}:v1`, '--out', out, '--json']);
      expect(r.code).toBe(1);
      expect(json<{ error: { code: string } }>(r).error.code).toBe('UNSAFE_TITLE');
      await expectUntouched();
      await expect(stat('/tmp/kimg-pwned.txt')).rejects.toThrow();
    });
  }

  it('refuses a title through a symlink already in the output directory', async () => {
    const repo = `kimg-art-${run}/hostile-symlink-title`;
    await titled(repo, 'escape/pwned.txt');
    const outside = path.join(parent, 'outside');
    await mkdir(outside);
    const out = await mkdtemp(path.join(work, 'symlink-out-'));
    await symlink(outside, path.join(out, 'escape'));
    const r = await cli(work, ['artifact', 'pull', `${reg}/${repo}:v1`, '--out', out, '--json']);
    expect(r.code).toBe(1);
    expect(json<{ error: { code: string; message: string } }>(r).error).toMatchObject({ code: 'UNSAFE_TITLE' });
    expect(await readdir(outside)).toEqual([]);
    expect(await readdir(out)).toEqual(['escape']);
    await rm(outside, { recursive: true });
    await expectUntouched();
  });

  const trees: Array<[string, () => Array<Omit<Entry, 'raw'>>]> = [
    ['dotdot entry', () => [{ path: 'dir/../../sentinel.txt', type: 'file', content: 'pwned' }]],
    ['absolute entry', () => [{ path: sentinel, type: 'file', content: 'pwned' }]],
    ['entry outside the title', () => [{ path: 'other/x', type: 'file', content: 'pwned' }]],
    ['write through a symlink', () => [{ path: 'dir/ln', type: 'symlink', linkname: '../../..' }, { path: 'dir/ln/sentinel.txt', type: 'file', content: 'pwned' }]],
    ['hard link out of the root', () => [{ path: 'dir/hl', type: 'hardlink', linkname: sentinel }, { path: 'dir/hl', type: 'file', content: 'pwned' }]],
  ];
  for (const [name, entries] of trees) {
    it(`contains or refuses a packed tree with a ${name}; the sentinel outside is untouched`, async () => {
      const repo = `kimg-art-${run}/hostile-tree-${name.replace(/[^a-z]+/g, '-')}`;
      await pushPackedDir(repo, 'v1', 'dir', await orasTar('dir', entries()));
      const out = path.join(parent, 'out');
      const r = await cli(parent, ['artifact', 'pull', `${reg}/${repo}:v1`, '--out', out, '--json']);
      expect(r.code).not.toBe(0);
      await expectUntouched();
      await expect(stat(out)).rejects.toThrow();
    });
  }

  it('resolves a relative hard-link target in the extraction root, never the working directory (CVE-2026-50163)', async () => {
    // oras-go ≤ 2.6.1 called link(2) with the raw Linkname: relative to the process's cwd, where
    // a file of this name exists. Run with that cwd: the link must not reach it.
    const repo = `kimg-art-${run}/hostile-cwd-hardlink`;
    await pushPackedDir(repo, 'v1', 'dir', await orasTar('dir', [
      { path: 'dir/h', type: 'hardlink', linkname: 'sentinel.txt' },
      { path: 'dir/h', type: 'file', content: 'pwned through the link' },
    ]));
    const out = path.join(parent, 'out');
    const r = await cli(parent, ['artifact', 'pull', `${reg}/${repo}:v1`, '--out', out, '--json']);
    expect(r.code).not.toBe(0);
    await expectUntouched();
  });
});

describe('attach twice, then discover lists both through the referrers tag', () => {
  it('keeps both referrers in the sha256-<hex> index and shows them as a tree and as JSON', async () => {
    const repo = `kimg-art-${run}/subject`;
    const src = await dir('attach-src');
    await writeFile(path.join(src, 'image.txt'), 'the subject\n');
    await writeFile(path.join(src, 'sbom.spdx.json'), '{"spdxVersion":"SPDX-2.3"}\n');
    await writeFile(path.join(src, 'report.txt'), 'scan: clean\n');
    const subject = json<{ digest: string }>(await cli(src, ['artifact', 'push', `${reg}/${repo}:v1`, 'image.txt', '--json']));
    const a = await cli(src, ['artifact', 'attach', `${reg}/${repo}:v1`, 'sbom.spdx.json', '--artifact-type', 'application/spdx+json', '--annotation', 'org.example.kind=sbom', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const first = json<{ digest: string; subject: { digest: string }; referrers: { via: string; tag: string; entries: number } }>(a);
    expect(first.subject.digest).toBe(subject.digest);
    expect(first.referrers).toEqual({ via: 'tag-schema', tag: `sha256-${subject.digest.slice(7)}`, entries: 1 });
    const b = await cli(src, ['artifact', 'attach', `${reg}/${repo}@${subject.digest}`, 'report.txt', '--artifact-type', 'application/vnd.example.report.v1', '--json']);
    expect(b.code, b.stderr).toBe(0);
    const second = json<{ digest: string; referrers: { entries: number } }>(b);
    expect(second.referrers.entries).toBe(2);

    // The attached manifests carry the subject, as oras attach writes them.
    const m = await rawManifest(reg, repo, first.digest);
    expect(m.json.subject).toEqual({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject.digest, size: expect.any(Number) as number });
    const index = await rawManifest(reg, repo, `sha256-${subject.digest.slice(7)}`);
    expect(index.json.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect((index.json.manifests as Array<{ digest: string }>).map((x) => x.digest)).toEqual([first.digest, second.digest]);

    const d = await cli(work, ['artifact', 'discover', `${reg}/${repo}:v1`, '--json']);
    expect(d.code, d.stderr).toBe(0);
    const found = json<{ digest: string; via: string; referrers: Array<{ digest: string; artifactType: string; annotations: Record<string, string> }> }>(d);
    expect(found.digest).toBe(subject.digest);
    expect(found.via).toBe('tag-schema');
    expect(found.referrers.map((x) => [x.digest, x.artifactType])).toEqual([[first.digest, 'application/spdx+json'], [second.digest, 'application/vnd.example.report.v1']]);
    expect(found.referrers[0]?.annotations['org.example.kind']).toBe('sbom');
    expect(found.referrers[0]?.annotations['org.opencontainers.image.created']).toMatch(/Z$/);

    const only = json<{ referrers: Array<{ digest: string }> }>(await cli(work, ['artifact', 'discover', `${reg}/${repo}:v1`, '--artifact-type', 'application/spdx+json', '--json']));
    expect(only.referrers.map((x) => x.digest)).toEqual([first.digest]);

    const tree = await cli(work, ['artifact', 'discover', `${reg}/${repo}:v1`]);
    expect(tree.stdout).toContain(`├── application/spdx+json ${first.digest}`);
    expect(tree.stdout).toContain(`└── application/vnd.example.report.v1 ${second.digest}`);
  });
});

describe('authentication for push (Basic and token); no secret in any output', () => {
  async function configFor(registry: string, user: string, pass: string): Promise<string> {
    const d = await mkdtemp(path.join(work, 'docker-'));
    await writeFile(path.join(d, 'config.json'), JSON.stringify({ auths: { [registry]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } } }));
    return d;
  }

  for (const kind of ['basic', 'token'] as const) {
    it(`${kind}: push and pull with credentials from DOCKER_CONFIG; anonymous push is refused`, async () => {
      const registry = kind === 'basic' ? env.registryBasic : env.registryToken;
      const user = kind === 'basic' ? env.basicUser : env.tokenUser;
      const pass = kind === 'basic' ? env.basicPass : env.tokenPass;
      const src = await dir(`auth-${kind}`);
      await writeFile(path.join(src, 'file.bin'), randomBytes(120_000));
      const ref = `${registry}/kimg-art-${run}/auth-${kind}:v1`;
      const docker = await configFor(registry, user, pass);
      const stepOut = path.join(src, 'out.txt');
      const stepSum = path.join(src, 'sum.md');
      await writeFile(stepOut, '');
      await writeFile(stepSum, '');
      const stepEnv = { DOCKER_CONFIG: docker, GITHUB_OUTPUT: stepOut, GITHUB_STEP_SUMMARY: stepSum };
      const p = await cli(src, ['artifact', 'push', ref, 'file.bin', '--json', '--verbose'], stepEnv);
      expect(p.code, p.stderr).toBe(0);
      const pulled = path.join(src, 'pulled');
      const q = await cli(src, ['artifact', 'pull', ref, '--out', pulled, '--json', '--verbose'], stepEnv);
      expect(q.code, q.stderr).toBe(0);
      expect((await readFile(path.join(pulled, 'file.bin'))).equals(await readFile(path.join(src, 'file.bin')))).toBe(true);
      const anon = await cli(src, ['artifact', 'push', `${registry}/kimg-art-${run}/auth-${kind}:anon`, 'file.bin', '--json']);
      expect(anon.code).toBe(1);
      expect(json<{ error: { code: string } }>(anon).error.code).toBe('UNAUTHORIZED');
      const wrongCfg = await configFor(registry, user, 'wrong-password-value');
      const wrong = await cli(src, ['artifact', 'push', `${registry}/kimg-art-${run}/auth-${kind}:wrong`, 'file.bin', '--json', '--verbose'], { DOCKER_CONFIG: wrongCfg });
      expect(wrong.code).toBe(1);
      const everything = [p, q, anon, wrong].map((x) => x.stdout + x.stderr).join('\n') + await readFile(stepOut, 'utf8') + await readFile(stepSum, 'utf8');
      for (const secret of [pass, basicAuth(user, pass).slice(6), Buffer.from(`${user}:${pass}`).toString('base64'), 'wrong-password-value']) {
        expect(everything).not.toContain(secret);
      }
      expect(everything).toContain('kairos-img artifact push');
    });
  }
});

describe('through the fault proxy', () => {
  let proxy: FaultProxy;
  beforeAll(async () => { proxy = await startFaultProxy({ upstream: reg }); });
  afterAll(async () => { await proxy.close(); });

  it('a file above the chunk size is uploaded in chunks and resumed after a PATCH is cut', async () => {
    const src = await dir('chunked');
    const big = randomBytes(70 * 1024 * 1024);
    await writeFile(path.join(src, 'big.img'), big);
    proxy.clearRequests();
    proxy.setFaults([{ kind: 'cut-upload', method: 'PATCH', afterBytes: 8 * 1024 * 1024, times: 1, match: /\/blobs\/uploads\// }]);
    const ref = `${proxy.address}/kimg-art-${run}/chunked:v1`;
    const r = await cli(src, ['artifact', 'push', ref, 'big.img', '--json', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resuming sha256:[0-9a-f]{12} at byte 0/);
    const patches = proxy.requests.filter((q) => q.method === 'PATCH');
    expect(patches.length).toBe(3); // the cut one, then 64 MiB + 6 MiB
    expect(proxy.requests.filter((q) => q.method === 'GET' && q.path.includes('/blobs/uploads/')).length).toBe(1);
    const out = path.join(src, 'out');
    expect((await cli(src, ['artifact', 'pull', `${reg}/kimg-art-${run}/chunked:v1`, '--out', out])).code).toBe(0);
    expect(sha(await readFile(path.join(out, 'big.img')))).toBe(sha(big));
  });
});

describe('extract-img reads a disk image published as an ORAS artifact', () => {
  it('verifies the raw image against its .sha256 and writes both', async () => {
    const src = await dir('oras-disk');
    const raw = randomBytes(1024 * 1024);
    await writeFile(path.join(src, 'kairos-rpi.img'), raw);
    execFileSync('xz', ['-T1', '-k', path.join(src, 'kairos-rpi.img')]);
    await writeFile(path.join(src, 'kairos-rpi.img.sha256'), `${sha(raw).slice(7)}  /build/kairos-rpi.img\n`);
    const ref = `${reg}/kimg-art-${run}/disk:v1`;
    const p = await cli(src, ['artifact', 'push', ref, 'kairos-rpi.img.xz:application/x-xz', 'kairos-rpi.img.sha256', '--artifact-type', 'application/vnd.kairos.disk-image.v1', '--json']);
    expect(p.code, p.stderr).toBe(0);
    const out = path.join(src, 'build');
    const x = await cli(src, ['extract-img', ref, '--out', out, '--json']);
    expect(x.code, x.stderr).toBe(0);
    const d = json<{ files: Array<{ path: string; role: string; verified: boolean; rawSha256?: string }> }>(x);
    const image = d.files.find((f) => f.role === 'image');
    expect(image).toMatchObject({ path: path.join(out, 'kairos-rpi.img.xz'), verified: true, rawSha256: sha(raw).slice(7) });
    expect((await readdir(out)).sort()).toEqual(['kairos-rpi.img.sha256', 'kairos-rpi.img.xz']);

    // The same artifact with a checksum of other bytes: refused, nothing kept.
    await writeFile(path.join(src, 'kairos-rpi.img.sha256'), `${sha('other').slice(7)}  /build/kairos-rpi.img\n`);
    const bad = `${reg}/kimg-art-${run}/disk:tampered`;
    expect((await cli(src, ['artifact', 'push', bad, 'kairos-rpi.img.xz:application/x-xz', 'kairos-rpi.img.sha256'])).code).toBe(0);
    const out2 = path.join(src, 'build2');
    const y = await cli(src, ['extract-img', bad, '--out', out2, '--json']);
    expect(y.code).not.toBe(0);
    expect(json<{ error: { code: string } }>(y).error.code).toBe('CHECKSUM_MISMATCH');
    await expect(stat(out2)).rejects.toThrow();
  });
});
