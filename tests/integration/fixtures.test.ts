// The fixture images are what every other integration test stands on: check that the seeded
// registry serves exactly what was built (digests, media types, arches, layer counts), that the
// layouts unpack with an independent tool (umoci), and that the Kairos shapes hold what they claim.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildImage,
  buildIndex,
  inspectRaw,
  MediaType,
  pushImage,
  tarOf,
  whiteout,
} from '../../scripts/fixtures/image-builder.mjs';
import { remoteDigest, seed, type SeededImage } from '../../scripts/fixtures/seed.mjs';
import { testEnv } from '../helpers/env.js';

const exec = promisify(execFile);

function requireRegistry(): string {
  const registry = process.env.KIMG_REGISTRY;
  if (!registry) throw new Error('KIMG_REGISTRY is not set: run `eval "$(bash scripts/test-env.sh start)"` first');
  return registry;
}

const registry = requireRegistry();
let records: SeededImage[] = [];
let tmp = '';

function record(repoTag: string): SeededImage {
  const r = records.find((x) => `${x.repository}:${x.tag}` === repoTag);
  if (r === undefined) throw new Error(`fixture ${repoTag} was not seeded`);
  return r;
}

interface Inspect {
  Architecture: string;
  Os: string;
  Layers: string[];
}

async function skopeoInspect(ref: string, arch?: string): Promise<Inspect> {
  const args = ['inspect', '--tls-verify=false', ...(arch ? ['--override-arch', arch] : []), `docker://${ref}`];
  const { stdout } = await exec('skopeo', args);
  return JSON.parse(stdout) as Inspect;
}

/** Streams a blob from the registry through gunzip (when asked) and tar-stream: name → {type, bytes}. */
async function readLayer(repository: string, digest: string, gzip: boolean): Promise<Map<string, { type: string; body: Buffer; linkname?: string | null }>> {
  const res = await fetch(`http://${registry}/v2/${repository}/blobs/${digest}`);
  expect(res.status).toBe(200);
  const out = new Map<string, { type: string; body: Buffer; linkname?: string | null }>();
  const extract = tar.extract();
  const collecting = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      out.set(entry.header.name, { type: entry.header.type ?? 'file', body: Buffer.concat(chunks), linkname: entry.header.linkname });
    }
  })();
  const body = Readable.fromWeb(res.body as WebReadableStream);
  await Promise.all([gzip ? pipeline(body, createGunzip(), extract) : pipeline(body, extract), collecting]);
  return out;
}

async function xzSha256(xz: Buffer): Promise<string> {
  const dir = await mkdtemp(path.join(tmp, 'xz-'));
  const file = path.join(dir, 'img.xz');
  await writeFile(file, xz);
  const { stdout } = await exec('sh', ['-c', `xz -dc "${file}" | sha256sum`]);
  return stdout.split(' ')[0] ?? '';
}

async function umociUnpack(layoutDir: string, name: string): Promise<string> {
  const bundle = path.join(tmp, name);
  await exec('umoci', ['unpack', '--rootless', '--image', `${layoutDir}:fixture`, bundle]);
  return path.join(bundle, 'rootfs');
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kimg-fixtures-'));
  records = await seed({ registry, set: 'test', log: () => {} });
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('seed', () => {
  it('serves every seeded tag with the digest that was built (digests preserved)', async () => {
    expect(records.length).toBeGreaterThan(150);
    const wrong: string[] = [];
    for (const r of records) {
      const have = await remoteDigest({ registry, repository: r.repository, tag: r.tag });
      if (have !== r.digest) wrong.push(`${r.ref}: ${have} != ${r.digest}`);
    }
    expect(wrong).toEqual([]);
  });

  it('is idempotent: a second run pushes nothing', async () => {
    const again = await seed({ registry, set: 'demo', log: () => {} });
    expect(again.filter((r) => r.status !== 'present').map((r) => r.ref)).toEqual([]);
    expect(again.map((r) => r.ref)).toContain(`${registry}/kairos/core-alpine-arm-rpi:v1.5.0.img`);
  });

  it('has the v1 demo tags', () => {
    for (const t of ['v1.3.2', 'v1.4.0', 'v1.5.0-rc1', 'latest']) record(`kairos/core-opensuse:${t}`);
    const k3s: Record<string, string> = {
      'v1.4.0-k3sv1.25.5-k3s1': 'v1.25.5+k3s1',
      'v1.4.0-k3sv1.26.0-k3s1': 'v1.26.0+k3s1',
      'v1.5.0-k3sv1.25.6-k3s1': 'v1.25.6+k3s1',
      'v1.5.0-k3sv1.26.1-k3s1': 'v1.26.1+k3s1',
    };
    for (const [tag, version] of Object.entries(k3s)) {
      const r = record(`kairos/kairos-opensuse:${tag}`);
      expect([r.facts.k3s, r.facts.version, r.facts.variant]).toEqual([version, tag.split('-')[0], 'standard']);
    }
    expect(record('kairos/core-opensuse:latest').digest).toBe(record('kairos/core-opensuse:v1.4.0').digest);
  });
});

describe('media types, arches and layers (skopeo inspect)', () => {
  it('core-opensuse:v1.3.2 is an OCI amd64 image with two gzip layers', async () => {
    const raw = await inspectRaw({ ref: `${registry}/kairos/core-opensuse:v1.3.2` });
    expect(raw.mediaType).toBe(MediaType.ociManifest);
    expect(raw.config?.mediaType).toBe(MediaType.ociConfig);
    expect(raw.layers?.map((l) => l.mediaType)).toEqual([MediaType.ociLayerGzip, MediaType.ociLayerGzip]);
    const info = await skopeoInspect(`${registry}/kairos/core-opensuse:v1.3.2`);
    expect([info.Architecture, info.Os, info.Layers.length]).toEqual(['amd64', 'linux', 2]);
  });

  it('core-opensuse:v1.4.0 is an OCI index of amd64 and arm64', async () => {
    const raw = await inspectRaw({ ref: `${registry}/kairos/core-opensuse:v1.4.0` });
    expect(raw.mediaType).toBe(MediaType.ociIndex);
    expect(raw.manifests?.map((m) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
    expect((await skopeoInspect(`${registry}/kairos/core-opensuse:v1.4.0`, 'arm64')).Architecture).toBe('arm64');
    expect((await skopeoInspect(`${registry}/kairos/core-opensuse:v1.4.0`, 'amd64')).Architecture).toBe('amd64');
  });

  it('kairos-opensuse standard images are Docker schema 2 with three layers', async () => {
    const ref = `${registry}/kairos/kairos-opensuse:v1.5.0-k3sv1.26.1-k3s1`;
    const raw = await inspectRaw({ ref });
    expect(raw.mediaType).toBe(MediaType.dockerManifest);
    expect(raw.config?.mediaType).toBe(MediaType.dockerConfig);
    expect(new Set(raw.layers?.map((l) => l.mediaType))).toEqual(new Set([MediaType.dockerLayerGzip]));
    expect((await skopeoInspect(ref)).Layers).toHaveLength(3);
  });

  it('test/layers-docker keeps Docker media types for gzip and uncompressed layers', async () => {
    const raw = await inspectRaw({ ref: `${registry}/test/layers-docker:v1` });
    expect(raw.mediaType).toBe(MediaType.dockerManifest);
    expect(raw.layers?.map((l) => l.mediaType)).toEqual([MediaType.dockerLayerGzip, MediaType.dockerLayerGzip, MediaType.dockerLayerTar]);
  });

  it('test/zstd has zstd layers', async () => {
    const raw = await inspectRaw({ ref: `${registry}/test/zstd:v1` });
    expect(raw.layers?.map((l) => l.mediaType)).toEqual([MediaType.ociLayerZstd, MediaType.ociLayerGzip, MediaType.ociLayerZstd]);
  });

  it('rpi images are arm64; luet-pack artifacts have an empty platform and one layer', async () => {
    expect((await skopeoInspect(`${registry}/kairos/core-alpine-arm-rpi:v1.5.0`)).Architecture).toBe('arm64');
    expect((await skopeoInspect(`${registry}/kairos/opensuse:leap-15.5-core-arm64-rpi4-v2.4.3`)).Architecture).toBe('arm64');
    const art = await skopeoInspect(`${registry}/kairos/core-alpine-arm-rpi:v1.5.0.img`);
    expect([art.Architecture, art.Os, art.Layers.length]).toEqual(['', '', 1]);
    const raw = await inspectRaw({ ref: `${registry}/kairos/core-opensuse-arm-rpi-img:v2.3.0` });
    expect(raw.mediaType).toBe(MediaType.dockerManifest);
    const scratch = await inspectRaw({ ref: `${registry}/kairos/opensuse:leap-15.6-core-arm64-rpi4-v3.4.2-img` });
    expect(scratch.mediaType).toBe(MediaType.ociManifest);
    expect(scratch.layers).toHaveLength(1);
  });

  it('the noise tags are there: branch, git hash, cosign signature of the v1.4.0 index', async () => {
    const sig = records.find((r) => r.repository === 'kairos/core-opensuse' && r.tag.endsWith('.sig'));
    expect(sig?.tag).toBe(`${record('kairos/core-opensuse:v1.4.0').digest.replace(':', '-')}.sig`);
    const raw = await inspectRaw({ ref: sig!.ref });
    expect(raw.layers?.[0]?.mediaType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
    record('kairos/core-opensuse:master');
    record('kairos/core-opensuse:3f2a1c9');
  });
});

describe('tag lists', () => {
  // CNCF distribution 2.8 ignores `n` on tag lists (pagination arrived in 3.0) and lists tags in no
  // particular order; the loop still follows Link headers so that it holds for any registry.
  it('test/many-tags has 130 tags', async () => {
    const tags: string[] = [];
    let url: string | null = `http://${registry}/v2/test/many-tags/tags/list?n=50`;
    let pages = 0;
    while (url !== null) {
      const res: Response = await fetch(url);
      expect(res.status).toBe(200);
      tags.push(...((await res.json()) as { tags: string[] }).tags);
      pages++;
      const next = res.headers.get('link')?.match(/<([^>]+)>;\s*rel="next"/)?.[1];
      url = next === undefined ? null : new URL(next, `http://${registry}`).toString();
    }
    expect(pages).toBeGreaterThanOrEqual(1);
    expect(tags).toHaveLength(130);
    expect(tags).toContain('v1.129.0');
  });
});

describe('umoci unpack --rootless of the built layouts', () => {
  it('applies whiteouts, opaque dirs, hardlinks, symlinks and long names of test/layers-oci', async () => {
    const r = record('test/layers-oci:v1');
    const rootfs = await umociUnpack(r.layoutDir, 'crafted');
    for (const p of r.facts.present ?? []) await expect(lstat(path.join(rootfs, p))).resolves.toBeDefined();
    for (const p of r.facts.absent ?? []) await expect(lstat(path.join(rootfs, p))).rejects.toThrow(/ENOENT/);
    for (const [p, content] of Object.entries(r.facts.contents ?? {})) expect(await readFile(path.join(rootfs, p), 'utf8')).toBe(content);
    expect((await stat(path.join(rootfs, 'usr/bin/su'))).mode & 0o7777).toBe(0o4755);
    expect((await stat(path.join(rootfs, 'usr/bin/su-again'))).ino).toBe((await stat(path.join(rootfs, 'usr/bin/su'))).ino);
    expect(await readlink(path.join(rootfs, 'etc/localtime'))).toBe('/usr/share/zoneinfo/UTC');
  });

  it('v1 core: /etc/os-release is the Kairos file, the base file pins Leap 15.4, the package cache is whited out', async () => {
    const rootfs = await umociUnpack(record('kairos/core-opensuse:v1.3.2').layoutDir, 'v1');
    const osRelease = await readFile(path.join(rootfs, 'etc/os-release'), 'utf8');
    expect(osRelease).toMatch(/^IMAGE_LABEL="v1.3.2"$/m);
    expect(osRelease).toMatch(/^IMAGE_REPO="quay.io\/kairos\/core-opensuse"$/m);
    expect(osRelease).toMatch(/^FLAVOR="opensuse"$/m);
    expect(osRelease).not.toMatch(/KAIROS_/);
    expect(await readFile(path.join(rootfs, 'usr/lib/os-release'), 'utf8')).toMatch(/^VERSION_ID="15.4"$/m);
    await expect(lstat(path.join(rootfs, 'var/cache/zypp/packages'))).rejects.toThrow(/ENOENT/);
  });

  it('v2 images append KAIROS_ keys; the contradicting fixture says v2.3.0 under tag v2.3.1', async () => {
    const rootfs = await umociUnpack(record('kairos/core-ubuntu-22-lts:v2.3.1').layoutDir, 'v2');
    const osRelease = await readFile(path.join(rootfs, 'etc/os-release'), 'utf8');
    expect(osRelease).toMatch(/^VERSION_ID="22.04"$/m);
    expect(osRelease).toMatch(/^KAIROS_VERSION="v2.3.0"$/m);
    expect(osRelease).toMatch(/^KAIROS_IMAGE_LABEL="v2.3.1"$/m);
    const pin = await umociUnpack(record('kairos/core-opensuse-leap:v2.3.0').layoutDir, 'pin');
    expect(await readFile(path.join(pin, 'usr/lib/os-release'), 'utf8')).toMatch(/^VERSION_ID="15.4"$/m);
  });

  it('v3.2.2+ images have /etc/kairos-release and keep the distribution os-release', async () => {
    const rootfs = await umociUnpack(record('kairos/opensuse:leap-15.6-core-arm64-rpi4-v3.4.2').layoutDir, 'v3');
    expect(await readFile(path.join(rootfs, 'etc/kairos-release'), 'utf8')).toMatch(/^KAIROS_MODEL="rpi4"$/m);
    expect(await readlink(path.join(rootfs, 'etc/os-release'))).toBe('../usr/lib/os-release');
  });

  it('standard images carry /usr/bin/k3s', async () => {
    const rootfs = await umociUnpack(record('kairos/ubuntu:22.04-standard-amd64-generic-v2.4.3-k3sv1.28.2-k3s1').layoutDir, 'std');
    expect(await readFile(path.join(rootfs, 'usr/bin/k3s'), 'utf8')).toContain('v1.28.2+k3s1');
  });
});

describe('rpi artifacts (read back from the registry)', () => {
  async function artifactFiles(repoTag: string) {
    const r = record(repoTag);
    const raw = await inspectRaw({ ref: r.ref });
    const layer = raw.layers![0]!;
    return { r, files: await readLayer(r.repository, layer.digest, true) };
  }

  it('v1 .img tag: build/<name>.img.xz with a .sha256 of the uncompressed image naming /build/<name>.img', async () => {
    const { r, files } = await artifactFiles('kairos/core-alpine-arm-rpi:v1.5.0.img');
    const name = r.facts.name!;
    expect([...files.keys()].sort()).toEqual(['build/', `build/${name}.img.sha256`, `build/${name}.img.xz`]);
    const sum = files.get(`build/${name}.img.sha256`)!.body.toString();
    expect(sum).toBe(`${r.facts.rawSha256}  /build/${name}.img\n`);
    const xz = files.get(`build/${name}.img.xz`)!.body;
    expect(createHash('sha256').update(xz).digest('hex')).toBe(r.facts.xzSha256);
    expect(await xzSha256(xz)).toBe(r.facts.rawSha256);
  });

  it('v2.4+ artifacts have the extras; v3.4+ scratch artifacts hold the files at the root', async () => {
    const v24 = await artifactFiles('kairos/opensuse:leap-15.5-core-arm64-rpi4-v2.4.3-img');
    expect([...v24.files.keys()]).toEqual(expect.arrayContaining(['build/IMAGE', 'build/VERSION', 'build/versions.yaml']));
    const v34 = await artifactFiles('kairos/opensuse:leap-15.6-core-arm64-rpi4-v3.4.2-img');
    const name = v34.r.facts.name!;
    expect([...v34.files.keys()]).toEqual(expect.arrayContaining([`${name}.img.xz`, `${name}.img.sha256`, 'VERSION']));
    expect([...v34.files.keys()].some((k) => k.startsWith('build/'))).toBe(false);
  });

  it('the bad-checksum artifact does not match and the no-checksum one has none', async () => {
    const bad = await artifactFiles('test/rpi-badsum:v1.5.0.img');
    const name = bad.r.facts.name!;
    const claimed = bad.files.get(`build/${name}.img.sha256`)!.body.toString().split(' ')[0];
    expect(claimed).not.toBe(await xzSha256(bad.files.get(`build/${name}.img.xz`)!.body));
    const none = await artifactFiles('test/rpi-nosum:v1.5.0.img');
    expect([...none.files.keys()].some((k) => k.endsWith('.sha256'))).toBe(false);
  });
});

describe('image builder', () => {
  it('records diff IDs of the uncompressed tars and tags the layout', async () => {
    const dir = path.join(tmp, 'builder');
    const entries = [{ path: '/etc/a', type: 'file' as const, content: 'a\n' }, whiteout('/etc/b')];
    const expected = `sha256:${createHash('sha256').update(await tarOf(entries)).digest('hex')}`;
    const img = await buildImage({
      dir,
      tag: 'v1',
      layers: (['gzip', 'zstd', 'none'] as const).map((compression) => ({ compression, entries })),
    });
    expect(img.layers.map((l) => l.diffId)).toEqual([expected, expected, expected]);
    expect(img.layers[2]!.digest).toBe(expected);
    const config = JSON.parse(await readFile(path.join(dir, 'blobs/sha256', img.configDigest.slice(7)), 'utf8'));
    expect(config.rootfs.diff_ids).toEqual([expected, expected, expected]);
    const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8'));
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('v1');
    const { stdout } = await exec('sh', ['-c', `zstd -dc "${path.join(dir, 'blobs/sha256', img.layers[1]!.digest.slice(7))}" | sha256sum`]);
    expect(`sha256:${stdout.split(' ')[0]}`).toBe(expected);
  });

  it('writes raw entry names as given (for unpack attack tests)', async () => {
    const buf = await tarOf([
      { path: '../escape', type: 'file', content: 'x', raw: true },
      { path: '/etc/passwd', type: 'file', content: 'root', raw: true },
      { path: 'link', type: 'hardlink', linkname: '/etc/shadow', raw: true },
      { path: 'etc/.wh..wh..opq', type: 'file', raw: true },
    ]);
    const names: string[] = [];
    const links: Array<string | null | undefined> = [];
    const extract = tar.extract();
    const done = (async () => {
      for await (const e of extract) {
        names.push(e.header.name);
        links.push(e.header.linkname);
        e.resume();
      }
    })();
    await Promise.all([pipeline(Readable.from([buf]), extract), done]);
    expect(names).toEqual(['../escape', '/etc/passwd', 'link', 'etc/.wh..wh..opq']);
    expect(links[2]).toBe('/etc/shadow');
  });

  it('pushes a Docker manifest list as is, and with credentials to the Basic-auth registry', async () => {
    const env = testEnv();
    const dir = path.join(tmp, 'list');
    const images = [];
    for (const arch of ['amd64', 'arm64']) {
      images.push(await buildImage({ dir, arch, format: 'docker', layers: [{ compression: 'gzip', entries: [{ path: 'arch', type: 'file', content: arch }] }] }));
    }
    const list = await buildIndex({
      dir,
      tag: 'multi',
      format: 'docker',
      manifests: images.map((i) => ({ digest: i.manifestDigest, size: i.manifestSize, mediaType: i.mediaType, platform: i.platform })),
    });
    await pushImage({ layoutDir: dir, tag: 'multi', dest: `${registry}/test/builder-list:multi` });
    expect(await remoteDigest({ registry, repository: 'test/builder-list', tag: 'multi' })).toBe(list.digest);
    const raw = await inspectRaw({ ref: `${registry}/test/builder-list:multi` });
    expect(raw.mediaType).toBe(MediaType.dockerManifestList);

    const creds = { username: env.basicUser, password: env.basicPass };
    await pushImage({ layoutDir: dir, tag: 'multi', dest: `${env.registryBasic}/test/builder-list:multi`, creds });
    expect(await remoteDigest({ registry: env.registryBasic, repository: 'test/builder-list', tag: 'multi', creds })).toBe(list.digest);
    const wrong = { username: env.basicUser, password: 'not-the-password-1234' };
    const err = await pushImage({ layoutDir: dir, tag: 'multi', dest: `${env.registryBasic}/test/builder-list:x`, creds: wrong }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).not.toContain('not-the-password-1234');
  });
});
