// The Docker engine adapter against the real dockerd and registry of scripts/test-env.sh: engine
// pull with the registry's digest, load from the cache without registry traffic (counted by the
// fault proxy), container export through the unpack engine compared with the native unpack,
// interrupted pulls and exports leaving nothing behind, and the error when no engine answers.
import { randomBytes } from 'node:crypto';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { testEnv } from '../helpers/env.js';
import { containerIds, imageExists, removeImageById } from '../helpers/docker.js';
import { normalizeInodeGroups, snapshotTree, type TreeNode } from '../helpers/layers.js';
import {
  connectDocker, exportContainerFilesystem, loadCachedImage, pullIntoEngine, unpackViaDocker, layerProgressId,
  type PullProgressState,
} from '../../src/engine/docker.js';
import { createRegistryClient, dockerConfigCredentials } from '../../src/registry/index.js';
import { openStore, pullImage, type Store } from '../../src/store/index.js';
import { unpackImage } from '../../src/unpack/index.js';
import { parseReference, type Reference } from '../../src/reference/reference.js';

const env = testEnv();
const run = randomBytes(4).toString('hex');
const AMD64 = { os: 'linux', architecture: 'amd64' };
const BLOB_GET = /^\/v2\/.+\/blobs\/sha256:/;
let docker: Docker;
let proxy: FaultProxy;

/**
 * Removes the image a reference names from the engine under every name: by its ID (the config
 * digest, asked of the registry), since an image kept under another name lets the engine skip
 * the download.
 */
async function removeImage(name: string): Promise<void> {
  const ref = parseReference(name.replace(/^127\.0\.0\.1:\d+\//, `${env.registry}/`));
  const m = await createRegistryClient({ plainHttp: true }).getManifest(ref, { platform: AMD64 });
  await removeImageById(docker, m.manifest.config.digest);
  // An older build of the fixture may still hold the name.
  await removeImageById(docker, name);
  expect(await imageExists(docker, name)).toBe(false);
}



async function cacheImage(ref: Reference): Promise<Store> {
  const store = await openStore({ root: await mkdtemp(path.join(tmpdir(), 'kimg-engine-cache-')) });
  await pullImage({ client: createRegistryClient({ plainHttp: true }), store, ref, platform: AMD64 });
  return store;
}

beforeAll(async () => {
  await seed({ registry: env.registry, set: 'test' });
  docker = (await connectDocker({ env: process.env })).docker;
  proxy = await startFaultProxy({ upstream: env.registry });
});
afterAll(async () => { await proxy?.close(); });

describe('connectDocker', () => {
  it('no engine: ENGINE_UNREACHABLE naming the socket and DOCKER_HOST', async () => {
    const socket = path.join(tmpdir(), `kimg-no-engine-${process.pid}.sock`);
    const err = await connectDocker({ env: { DOCKER_HOST: `unix://${socket}` } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENGINE_UNREACHABLE', kind: 'operational' });
    expect((err as Error).message).toBe(`no Docker engine answers at unix://${socket} (from DOCKER_HOST): no such socket`);
    expect((err as { hint: string }).hint).toContain('DOCKER_HOST=');
  });
  it('reaches the test engine', async () => {
    const c = await connectDocker({ env: process.env });
    expect(c.address.display).toBe(env.dockerHost);
    expect(c.apiVersion).toMatch(/^1\.\d+$/);
  });
});

describe('pullIntoEngine', () => {
  it('the engine pulls the image; RepoDigests carries the registry digest; the image ID is the config digest', async () => {
    const ref = parseReference(`${env.registry}/kairos/core-opensuse:v1.3.2`);
    await removeImage(`${env.registry}/kairos/core-opensuse:v1.3.2`);
    const m = await createRegistryClient({ plainHttp: true }).getManifest(ref, { platform: AMD64 });
    const states: PullProgressState[] = [];
    const r = await pullIntoEngine({ docker, reference: ref, platform: 'linux/amd64', onProgress: (s) => states.push(s) });
    expect(r.repoDigests).toContain(`${env.registry}/kairos/core-opensuse@${m.descriptor.digest}`);
    expect(r.digest).toBe(m.descriptor.digest);
    expect(r.imageId).toBe(m.manifest.config.digest);
    expect(r.repoTags).toContain(`${env.registry}/kairos/core-opensuse:v1.3.2`);
    expect(r.upToDate).toBe(false);
    const last = states[states.length - 1] as PullProgressState;
    for (const l of m.manifest.layers) expect(last.layers[layerProgressId(l.digest)]?.phase).toBe('done');
    // A second pull: up to date, same image.
    const again = await pullIntoEngine({ docker, reference: ref, platform: 'linux/amd64' });
    expect(again).toMatchObject({ imageId: r.imageId, upToDate: true });
  });

  it('credentials from the Docker config reach the engine (X-Registry-Auth); without them the engine is refused', async () => {
    const repo = `kimg-enginetest-${run}/private`;
    const layoutDir = await mkdtemp(path.join(tmpdir(), 'kimg-engine-img-'));
    const layers = [{ compression: 'gzip' as const, entries: [{ path: 'secret.txt', type: 'file' as const, content: randomBytes(1000) }] }];
    const built = await buildImage({ dir: layoutDir, tag: 'v1', format: 'docker', arch: 'amd64', layers, config: { Cmd: ['/bin/sh'] } });
    const creds = { username: env.basicUser, password: env.basicPass };
    await pushImage({ layoutDir, tag: 'v1', dest: `${env.registryBasic}/${repo}:v1`, plainHttp: true, creds });
    const ref = parseReference(`${env.registryBasic}/${repo}:v1`);
    const anonymous = await pullIntoEngine({ docker, reference: ref, platform: 'linux/amd64', credentials: dockerConfigCredentials({ configPath: path.join(tmpdir(), 'kimg-none', 'config.json') }) }).catch((e: unknown) => e);
    expect(anonymous).toMatchObject({ code: 'ENGINE_UNAUTHORIZED' });
    expect((anonymous as Error).message).not.toContain(env.basicPass);
    const configDir = await mkdtemp(path.join(tmpdir(), 'kimg-engine-dockercfg-'));
    const auth = Buffer.from(`${env.basicUser}:${env.basicPass}`).toString('base64');
    await writeFile(path.join(configDir, 'config.json'), JSON.stringify({ auths: { [env.registryBasic]: { auth } } }));
    const r = await pullIntoEngine({ docker, reference: ref, platform: 'linux/amd64', credentials: dockerConfigCredentials({ env: { DOCKER_CONFIG: configDir } }) });
    expect(r.imageId).toBe(built.configDigest);
    expect(r.repoDigests).toContain(`${env.registryBasic}/${repo}@${built.manifestDigest}`);
    await docker.getImage(r.imageId).remove({ force: true });
  });

  it('a tag that does not exist: ENGINE_IMAGE_NOT_FOUND', async () => {
    const ref = parseReference(`${env.registry}/kairos/core-opensuse:v0.0.0-none`);
    await expect(pullIntoEngine({ docker, reference: ref, platform: 'linux/amd64' })).rejects.toMatchObject({ code: 'ENGINE_IMAGE_NOT_FOUND' });
  });

  it('interrupted midway: no image, no container, and the engine does not finish the pull on its own', async () => {
    // An image of its own (random bytes): no layer of it can already be in the engine.
    const repo = `kimg-enginetest-${run}/abort`;
    const layoutDir = await mkdtemp(path.join(tmpdir(), 'kimg-engine-img-'));
    const layers = [0, 1].map((i) => ({ compression: 'gzip' as const, entries: [{ path: `data${i}.bin`, type: 'file' as const, content: randomBytes(300_000) }] }));
    const built = await buildImage({ dir: layoutDir, tag: 'v1', format: 'docker', arch: 'amd64', layers, config: { Cmd: ['/bin/sh'] } });
    await pushImage({ layoutDir, tag: 'v1', dest: `${env.registry}/${repo}:v1`, plainHttp: true });
    const name = `${proxy.address}/${repo}:v1`;
    const before = await containerIds(docker);
    // Blob GETs answer 503 until the faults are cleared: the engine is stuck mid-pull, retrying.
    proxy.setFaults([{ kind: 'status', status: 503, times: 10_000, match: BLOB_GET }]);
    proxy.clearRequests();
    const ac = new AbortController();
    const seen: string[] = [];
    const pulling = pullIntoEngine({
      docker, reference: parseReference(name), platform: 'linux/amd64', signal: ac.signal,
      onProgress: (st, id) => {
        if (id === undefined) return;
        seen.push(`${id} ${st.layers[id]?.status ?? ''}`);
        if (seen.length === 1) setTimeout(() => ac.abort(), 300);
      },
    });
    await expect(pulling).rejects.toMatchObject({ code: 'INTERRUPTED', kind: 'interrupted' });
    expect(seen.length).toBeGreaterThan(0);
    expect(proxy.requests.some((r) => BLOB_GET.test(r.path) && r.status === 503)).toBe(true);
    proxy.setFaults([]);
    // Longer than the engine's first retry delay (5 s): a pull left running would complete now.
    await new Promise((r) => setTimeout(r, 8000));
    expect(await imageExists(docker, name)).toBe(false);
    expect(await imageExists(docker, built.configDigest)).toBe(false);
    expect(await containerIds(docker)).toEqual(before);
  }, 60_000);
});

describe('loadCachedImage (--from-cache)', () => {
  it('loads the same image ID as the registry pull, with no registry request', async () => {
    const name = `${proxy.address}/kairos/core-opensuse:v1.3.2`;
    const ref = parseReference(name);
    proxy.setFaults([]);
    await removeImage(name);
    const pulled = await pullIntoEngine({ docker, reference: ref, platform: 'linux/amd64' });
    const store = await cacheImage(ref);
    await removeImage(name);
    expect(await imageExists(docker, name)).toBe(false);
    proxy.clearRequests();
    const bytes: number[] = [];
    const loaded = await loadCachedImage({ docker, store, reference: ref, platform: AMD64, onBytes: (b) => bytes.push(b) });
    expect(proxy.requests).toEqual([]);
    expect(loaded.imageId).toBe(pulled.imageId);
    expect(loaded.configDigest).toBe(pulled.imageId);
    expect(loaded.repoTags).toContain(name);
    expect(bytes[bytes.length - 1]).toBe(loaded.size);
    const info = await docker.getImage(name).inspect();
    expect(info.Id).toBe(pulled.imageId);
  });

  it('zstd layers (which this engine cannot pull) load after decompression on the way', async () => {
    const ref = parseReference(`${env.registry}/test/zstd:v1`);
    const store = await cacheImage(ref);
    await removeImage(`${env.registry}/test/zstd:v1`);
    const m = await createRegistryClient({ plainHttp: true }).getManifest(ref, { platform: AMD64 });
    expect(m.manifest.layers.some((l) => l.mediaType.endsWith('+zstd'))).toBe(true);
    const loaded = await loadCachedImage({ docker, store, reference: ref, platform: AMD64 });
    expect(loaded.imageId).toBe(m.manifest.config.digest);
  });

  it('not cached: NOT_CACHED suggesting kairos-img pull', async () => {
    const store = await openStore({ root: await mkdtemp(path.join(tmpdir(), 'kimg-engine-empty-')) });
    const err = await loadCachedImage({ docker, store, reference: parseReference(`${env.registry}/kairos/core-opensuse:v1.3.2`), platform: AMD64 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_CACHED' });
    expect((err as { hint: string }).hint).toContain('kairos-img pull');
  });
});

// What the engine adds to every container's filesystem (its init layer) and the native unpack has not.
const ENGINE_OWN = ['.dockerenv', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'etc/mtab', 'proc', 'sys', 'dev'];

/** Both trees without the engine's own paths (it replaces an image's /etc/hostname with its own, for one). */
function withoutEngineFiles(tree: Map<string, TreeNode>, native: Map<string, TreeNode>): Map<string, TreeNode> {
  const out = new Map<string, TreeNode>();
  for (const [p, n] of tree) {
    if (!ENGINE_OWN.some((e) => p === e || p.startsWith(`${e}/`))) out.set(p, n);
  }
  // Parents the engine created only to hold its files (e.g. /etc in an image without one).
  for (const [p, n] of [...out]) {
    if (n.type === 'dir' && !native.has(p) && ![...out.keys()].some((q) => q.startsWith(`${p}/`))) out.delete(p);
  }
  return out;
}

/**
 * Known difference, not ignored silently: moby (and containerd) chmod a hard link's inode to the
 * mode in the link's own tar header; the native unpack keeps the target's mode, as GNU tar does.
 * The test fixtures' link headers say 0644 (tar-stream's default) for a setuid target.
 */
function withoutHardlinkModes(tree: Map<string, TreeNode>): Map<string, TreeNode> {
  return new Map([...tree].map(([p, n]) => [p, n.inodeGroup === undefined ? n : { ...n, mode: -1 }]));
}

async function compareWithNative(name: string): Promise<{ native: Map<string, TreeNode>; engine: Map<string, TreeNode> }> {
  const ref = parseReference(name);
  await pullIntoEngine({ docker, reference: ref, platform: 'linux/amd64' });
  const store = await cacheImage(ref);
  const m = await createRegistryClient({ plainHttp: true }).getManifest(ref, { platform: AMD64 });
  const base = await mkdtemp(path.join(tmpdir(), 'kimg-engine-unpack-'));
  const before = await containerIds(docker);
  const viaDocker = await unpackViaDocker({ docker, reference: name, platform: 'linux/amd64', dir: path.join(base, 'docker') });
  expect(viaDocker.dir).toBe(path.join(base, 'docker'));
  expect(await containerIds(docker)).toEqual(before);
  await unpackImage({
    dir: path.join(base, 'native'),
    layers: m.manifest.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, open: async () => store.openBlob(l) })),
  });
  const nativeAll = await snapshotTree(path.join(base, 'native'));
  const engineAll = await snapshotTree(path.join(base, 'docker'));
  expect(engineAll.has('.dockerenv')).toBe(true); // the export really is the engine's
  const native = normalizeInodeGroups(withoutEngineFiles(nativeAll, nativeAll));
  const engine = normalizeInodeGroups(withoutEngineFiles(engineAll, nativeAll));
  expect(native.size).toBeGreaterThan(5);
  expect(Object.fromEntries(await owners(path.join(base, 'docker'), engine))).toEqual(Object.fromEntries(await owners(path.join(base, 'native'), native)));
  await rm(base, { recursive: true, force: true });
  return { native, engine };
}

async function owners(root: string, tree: Map<string, TreeNode>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of tree.keys()) {
    const st = await lstat(path.join(root, p));
    out.set(p, `${st.uid}:${st.gid}`);
  }
  return out;
}

describe('exportContainerFilesystem / unpackViaDocker', () => {
  it('a Kairos image: exactly the same tree as the native unpack (apart from the engine\'s own files); no container left', async () => {
    const { native, engine } = await compareWithNative(`${env.registry}/kairos/core-opensuse:v1.3.2`);
    expect(native.has('etc/os-release')).toBe(true);
    expect(Object.fromEntries(withoutHardlinkModes(engine))).toEqual(Object.fromEntries(withoutHardlinkModes(native)));
    // Everything that is not a hard link compares exactly, modes included.
    expect([...native.values()].filter((n) => n.inodeGroup === undefined).length).toBeGreaterThan(15);
  });

  it('whiteouts, hardlinks, symlinks, long names, setuid, fifo, owners: the same tree (hard link modes aside, see above)', async () => {
    const { native, engine } = await compareWithNative(`${env.registry}/test/layers-oci:v1`);
    expect(Object.fromEntries(withoutHardlinkModes(engine))).toEqual(Object.fromEntries(withoutHardlinkModes(native)));
  });

  it('an image the engine lacks: ENGINE_IMAGE_MISSING, no container', async () => {
    const before = await containerIds(docker);
    await expect(exportContainerFilesystem({ docker, reference: `${env.registry}/test/never-pulled:v1` })).rejects.toMatchObject({ code: 'ENGINE_IMAGE_MISSING' });
    expect(await containerIds(docker)).toEqual(before);
  });

  it('aborted while streaming: the container is removed and the target left as it was', async () => {
    const name = `${env.registry}/test/layers-oci:v1`;
    await pullIntoEngine({ docker, reference: parseReference(name), platform: 'linux/amd64' });
    const before = await containerIds(docker);
    const ac = new AbortController();
    const exported = await exportContainerFilesystem({ docker, reference: name, signal: ac.signal });
    expect((await containerIds(docker)).length).toBe(before.length + 1);
    ac.abort();
    await exported.cleanup();
    expect(await containerIds(docker)).toEqual(before);
    // Through the unpack engine: aborted before it starts, nothing at the target, no container.
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'kimg-engine-abort-')), 'out');
    const ac2 = new AbortController();
    const unpacking = unpackViaDocker({ docker, reference: name, dir, signal: ac2.signal });
    setTimeout(() => ac2.abort(), 5);
    await expect(unpacking).rejects.toMatchObject({ code: 'INTERRUPTED' });
    await expect(lstat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    // Removal runs on abort; give the engine a moment.
    for (let i = 0; i < 20 && (await containerIds(docker)).length !== before.length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await containerIds(docker)).toEqual(before);
  });
});
