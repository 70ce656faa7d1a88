// `kairos-img pull … --to docker [--from-cache]` as users run it: the built CLI (node bin/kairos-img,
// after `npm run build`) against the real dockerd and the registry behind the fault proxy, which
// counts every registry request.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { testEnv } from '../helpers/env.js';
import { containerIds, imageExists, removeImageById } from '../helpers/docker.js';
import { createRegistryClient } from '../../src/registry/index.js';
import { parseReference } from '../../src/reference/reference.js';

const env = testEnv();
const run = randomBytes(4).toString('hex');
const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kairos-img');
const BLOB_GET = /^\/v2\/.+\/blobs\/sha256:/;
const AMD64 = { os: 'linux', architecture: 'amd64' };
const docker = new Docker({ socketPath: env.dockerSocket });
let proxy: FaultProxy;
let work: string;

function cli(args: string[], extra: NodeJS.ProcessEnv = {}): ResultPromise<{ reject: false; all: false }> {
  return execa('node', [BIN, ...args], {
    reject: false,
    all: false,
    env: { PATH: process.env.PATH, HOME: work, CI: '1', DOCKER_HOST: env.dockerHost, KAIROS_IMG_CACHE: path.join(work, 'cache'), ...extra },
    extendEnv: false,
  });
}

async function configDigest(ref: string): Promise<string> {
  const r = parseReference(ref.replace(proxy.address, env.registry));
  return (await createRegistryClient({ plainHttp: true }).getManifest(r, { platform: AMD64 })).manifest.config.digest;
}




beforeAll(async () => {
  await seed({ registry: env.registry, set: 'test' });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-engine-cli-'));
  proxy = await startFaultProxy({ upstream: env.registry });
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('pull --to docker', () => {
  const args = ['opensuse', 'standard', '--version', 'v1.4.0', '--k3s', 'v1.25.5+k3s1'];
  let pulledId = '';

  it('<flavor> <variant> --to docker: the engine has the image, with the registry digest in RepoDigests', async () => {
    const name = `${proxy.address}/kairos/kairos-opensuse:v1.4.0-k3sv1.25.5-k3s1`;
    const id = await configDigest(name);
    await removeImageById(docker, id);
    const digest = (await createRegistryClient({ plainHttp: true }).getManifest(parseReference(name.replace(proxy.address, env.registry)), { platform: AMD64 })).descriptor.digest;
    const r = await cli(['pull', ...args, '--to', 'docker', '--registry', proxy.address, '--plain-http', '--json']);
    expect(r.stderr).toContain('Pull into the Docker engine');
    expect(r.exitCode, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(d).toMatchObject({ reference: name, name, source: 'registry', imageId: id, digest, platform: 'linux/amd64', upToDate: false });
    expect(d['repoDigests']).toContain(`${proxy.address}/kairos/kairos-opensuse@${digest}`);
    const info = await docker.getImage(name).inspect();
    expect(info.Id).toBe(id);
    expect(info.RepoDigests).toContain(`${proxy.address}/kairos/kairos-opensuse@${digest}`);
    pulledId = id;
    // The human form names the image ID and the digest.
    const again = await cli(['pull', ...args, '--to', 'docker', '--registry', proxy.address, '--plain-http']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`image ID: ${id}`);
    expect(again.stdout).toContain(`${proxy.address}/kairos/kairos-opensuse@${digest}`);
    expect(again.stdout).toContain('already up to date');
  });

  it('--from-cache loads the same image ID with no registry request, even resolving the version from the cache', async () => {
    expect(pulledId).not.toBe('');
    const fill = await cli(['pull', ...args, '--registry', proxy.address, '--plain-http']);
    expect(fill.exitCode, fill.stderr).toBe(0);
    await removeImageById(docker, pulledId);
    proxy.clearRequests();
    const r = await cli(['pull', ...args, '--to', 'docker', '--from-cache', '--registry', proxy.address, '--plain-http', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ source: 'cache', imageId: pulledId });
    expect((await docker.getImage(`${proxy.address}/kairos/kairos-opensuse:v1.4.0-k3sv1.25.5-k3s1`).inspect()).Id).toBe(pulledId);
    // No --version, no --k3s: the newest release the cache holds.
    await removeImageById(docker, pulledId);
    const newest = await cli(['pull', 'opensuse', 'standard', '--to', 'docker', '--from-cache', '--registry', proxy.address, '--json']);
    expect(newest.exitCode, newest.stderr).toBe(0);
    expect(JSON.parse(newest.stdout)).toMatchObject({ imageId: pulledId, resolution: { version: 'v1.4.0', k3s: 'v1.25.5+k3s1', discovered: true } });
    expect(proxy.requests).toEqual([]);
  });

  it('--from-cache of an image not in the cache: exit 1, suggests kairos-img pull, no registry request', async () => {
    proxy.clearRequests();
    const r = await cli(['pull', `${proxy.address}/kairos/core-opensuse:v1.4.0`, '--to', 'docker', '--from-cache', '--plain-http']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/is not in the cache/);
    expect(r.stderr).toContain('kairos-img pull');
    expect(proxy.requests).toEqual([]);
  });

  it('--from-cache without --to docker is a usage error', async () => {
    const r = await cli(['pull', `${env.registry}/kairos/core-opensuse:v1.4.0`, '--from-cache']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--from-cache applies to --to docker only');
  });

  it('no engine: exit 1, names the socket tried and DOCKER_HOST, before any registry request', async () => {
    const socket = path.join(work, 'no-engine.sock');
    proxy.clearRequests();
    const r = await cli(['pull', ...args, '--to', 'docker', '--registry', proxy.address, '--plain-http'], { DOCKER_HOST: `unix://${socket}` });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`no Docker engine answers at unix://${socket} (from DOCKER_HOST): no such socket`);
    expect(r.stderr).toContain('DOCKER_HOST=');
    expect(r.stdout).toBe('');
    expect(proxy.requests).toEqual([]);
  });

  it('Ctrl-C midway: exit 130, nothing on stdout, no container, no image (also once the registry answers again)', async () => {
    const repo = `kimg-enginecli-${run}/abort`;
    const layoutDir = await mkdtemp(path.join(work, 'img-'));
    const layers = [0, 1].map((i) => ({ compression: 'gzip' as const, entries: [{ path: `data${i}.bin`, type: 'file' as const, content: randomBytes(300_000) }] }));
    const built = await buildImage({ dir: layoutDir, tag: 'v1', format: 'oci', arch: 'amd64', layers, config: { Cmd: ['/bin/sh'] } });
    await pushImage({ layoutDir, tag: 'v1', dest: `${env.registry}/${repo}:v1`, plainHttp: true });
    const name = `${proxy.address}/${repo}:v1`;
    const before = await containerIds(docker);
    proxy.setFaults([{ kind: 'status', status: 503, times: 10_000, match: BLOB_GET }]);
    proxy.clearRequests();
    const child = cli(['pull', name, '--to', 'docker', '--plain-http']);
    // Wait until the engine is mid-pull (its blob requests fail), then interrupt.
    for (let i = 0; i < 200 && !proxy.requests.some((q) => BLOB_GET.test(q.path) && q.status === 503); i++) await new Promise((res) => setTimeout(res, 50));
    expect(proxy.requests.some((q) => BLOB_GET.test(q.path))).toBe(true);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(r.stdout).toBe('');
    proxy.setFaults([]);
    await new Promise((res) => setTimeout(res, 8000));
    expect(await imageExists(docker, name)).toBe(false);
    expect(await imageExists(docker, built.configDigest)).toBe(false);
    expect(await containerIds(docker)).toEqual(before);
  }, 60_000);
});
