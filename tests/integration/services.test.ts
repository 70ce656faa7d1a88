// Proves the services of scripts/test-env.sh are really up and behave as the contract says:
// a real push with skopeo, Basic and token auth answering as a registry does, and a real dockerd
// that pulls from the loopback registry over plain HTTP.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, testEnv } from '../helpers/env.js';

const env = testEnv();
const runId = randomBytes(4).toString('hex');

const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  for (const [name, content] of Object.entries(files)) {
    archive.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  }
  archive.finalize();
  await done;
  return Buffer.concat(chunks);
}

interface Layout {
  dir: string;
  manifestDigest: string;
}

/** A minimal valid OCI image layout: one gzip layer, a config, a manifest, index.json. */
async function writeLayout(dir: string, tag: string): Promise<Layout> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (data: Buffer | string): Promise<{ digest: string; size: number }> => {
    const digest = sha256(data);
    await writeFile(join(blobs, digest.slice('sha256:'.length)), data);
    return { digest, size: Buffer.byteLength(data) };
  };
  const tar = await tarOf({ 'hello.txt': `hello from ${runId}\n` });
  const layer = await put(gzipSync(tar));
  const config = await put(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/hello.txt'] },
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
    }),
  );
  const manifestJson = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  });
  const manifest = await put(manifestJson);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return { dir, manifestDigest: manifest.digest };
}

async function skopeoPush(layout: Layout, tag: string, dest: string, creds?: string): Promise<void> {
  const args = ['copy', '--quiet', '--dest-tls-verify=false'];
  if (creds) args.push('--dest-creds', creds);
  await execa('skopeo', [...args, `oci:${layout.dir}:${tag}`, `docker://${dest}`], { stdin: 'ignore' });
}

interface DockerResponse {
  status: number;
  body: string;
}

function docker(method: string, path: string): Promise<DockerResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: env.dockerSocket, method, path, headers: { host: 'docker' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function token(params: { scope: string; auth?: string }): Promise<Response> {
  const url = new URL(`http://${env.tokenServer}/token`);
  url.searchParams.set('service', 'kimg-test-registry');
  url.searchParams.set('scope', params.scope);
  return fetch(url, params.auth ? { headers: { authorization: params.auth } } : {});
}

/** Every repository in the catalog, following `Link: <…>; rel="next"` pages. */
async function catalog(registry: string): Promise<string[]> {
  const all: string[] = [];
  let next: string | undefined = `/v2/_catalog?n=1000`;
  while (next !== undefined) {
    const res = await fetch(`http://${registry}${next}`);
    expect(res.status).toBe(200);
    all.push(...((await res.json()) as { repositories: string[] }).repositories);
    next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return all;
}

const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json';

let work: string;
let layout: Layout;
const tag = `t-${runId}`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kimg-services-'));
  layout = await writeLayout(join(work, 'layout'), tag);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('anonymous registry', () => {
  const repo = `kimg-selftest/services-${runId}`;

  it('takes a push from skopeo and lists it in the catalog and the tag list', async () => {
    await skopeoPush(layout, tag, `${env.registry}/${repo}:${tag}`);

    expect(await catalog(env.registry)).toContain(repo);

    const tags = (await (await fetch(`http://${env.registry}/v2/${repo}/tags/list`)).json()) as {
      name: string;
      tags: string[];
    };
    expect(tags).toEqual({ name: repo, tags: [tag] });

    const head = await fetch(`http://${env.registry}/v2/${repo}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { accept: MANIFEST_ACCEPT },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(layout.manifestDigest);
  });

  it('keeps blobs under KIMG_REGISTRY_STORAGE and has delete enabled', async () => {
    const hex = layout.manifestDigest.slice('sha256:'.length);
    const data = join(env.registryStorage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    expect((await stat(data)).isFile()).toBe(true);

    const other = `kimg-selftest/delete-${runId}`;
    await skopeoPush(layout, tag, `${env.registry}/${other}:${tag}`);
    const del = await fetch(`http://${env.registry}/v2/${other}/manifests/${layout.manifestDigest}`, {
      method: 'DELETE',
    });
    expect(del.status).toBe(202);
    const after = await fetch(`http://${env.registry}/v2/${other}/manifests/${layout.manifestDigest}`, {
      method: 'HEAD',
      headers: { accept: MANIFEST_ACCEPT },
    });
    expect(after.status).toBe(404);
  });
});

describe('Basic-auth registry', () => {
  it('answers 401 with a Basic challenge without credentials', async () => {
    const res = await fetch(`http://${env.registryBasic}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate') ?? '').toMatch(/^Basic realm=/);
  });

  it('answers 401 to wrong credentials and 200 to the right ones', async () => {
    const wrong = await fetch(`http://${env.registryBasic}/v2/`, {
      headers: { authorization: basicAuth(env.basicUser, `${env.basicPass}-wrong`) },
    });
    expect(wrong.status).toBe(401);
    const right = await fetch(`http://${env.registryBasic}/v2/`, {
      headers: { authorization: basicAuth(env.basicUser, env.basicPass) },
    });
    expect(right.status).toBe(200);
  });

  it('takes a push with credentials', async () => {
    const repo = `kimg-selftest/basic-${runId}`;
    await skopeoPush(layout, tag, `${env.registryBasic}/${repo}:${tag}`, `${env.basicUser}:${env.basicPass}`);
    const res = await fetch(`http://${env.registryBasic}/v2/${repo}/tags/list`, {
      headers: { authorization: basicAuth(env.basicUser, env.basicPass) },
    });
    expect(await res.json()).toEqual({ name: repo, tags: [tag] });
  });
});

describe('token registry and token server', () => {
  const publicRepo = `public/selftest-${runId}`;
  const privateRepo = `private/selftest-${runId}`;
  const creds = () => basicAuth(env.tokenUser, env.tokenPass);

  beforeAll(async () => {
    await skopeoPush(layout, tag, `${env.registryToken}/${publicRepo}:${tag}`, `${env.tokenUser}:${env.tokenPass}`);
    await skopeoPush(layout, tag, `${env.registryToken}/${privateRepo}:${tag}`, `${env.tokenUser}:${env.tokenPass}`);
  });

  it('challenges with a Bearer realm pointing at the token server', async () => {
    const res = await fetch(`http://${env.registryToken}/v2/${publicRepo}/tags/list`);
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain(`Bearer realm="http://${env.tokenServer}/token"`);
    expect(challenge).toContain('service="kimg-test-registry"');
    expect(challenge).toContain(`scope="repository:${publicRepo}:pull"`);
  });

  it('gives an anonymous pull token for public/ that the registry accepts, and counts it', async () => {
    const before = (await (await fetch(`http://${env.tokenServer}/stats`)).json()) as { issued: number };
    const res = await token({ scope: `repository:${publicRepo}:pull` });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(env.tokenTtl);
    expect(Number.isNaN(Date.parse(body.issued_at))).toBe(false);
    const after = (await (await fetch(`http://${env.tokenServer}/stats`)).json()) as { issued: number };
    // other test files may fetch tokens at the same time, so at least one more
    expect(after.issued).toBeGreaterThanOrEqual(before.issued + 1);

    const manifest = await fetch(`http://${env.registryToken}/v2/${publicRepo}/manifests/${tag}`, {
      headers: { authorization: `Bearer ${body.token}`, accept: MANIFEST_ACCEPT },
    });
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('docker-content-digest')).toBe(layout.manifestDigest);
  });

  it('does not let an anonymous token push to public/', async () => {
    const res = await token({ scope: `repository:${publicRepo}:pull,push` });
    const { token: jwt } = (await res.json()) as { token: string };
    const upload = await fetch(`http://${env.registryToken}/v2/${publicRepo}/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
    });
    expect(upload.status).toBe(401);
  });

  it('denies private/ without credentials and allows it with them', async () => {
    const anon = await token({ scope: `repository:${privateRepo}:pull` });
    expect(anon.status).toBe(200);
    const { token: anonJwt } = (await anon.json()) as { token: string };
    const denied = await fetch(`http://${env.registryToken}/v2/${privateRepo}/manifests/${tag}`, {
      headers: { authorization: `Bearer ${anonJwt}`, accept: MANIFEST_ACCEPT },
    });
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('UNAUTHORIZED');

    const authed = await token({ scope: `repository:${privateRepo}:pull`, auth: creds() });
    const { token: jwt } = (await authed.json()) as { token: string };
    const ok = await fetch(`http://${env.registryToken}/v2/${privateRepo}/manifests/${tag}`, {
      headers: { authorization: `Bearer ${jwt}`, accept: MANIFEST_ACCEPT },
    });
    expect(ok.status).toBe(200);
  });

  it('answers 401 to wrong credentials', async () => {
    const res = await token({
      scope: `repository:${privateRepo}:pull`,
      auth: basicAuth(env.tokenUser, `${env.tokenPass}x`),
    });
    expect(res.status).toBe(401);
  });
});

describe('dockerd', () => {
  it('answers /_ping and /version on its unix socket', async () => {
    const ping = await docker('GET', '/_ping');
    expect(ping).toEqual({ status: 200, body: 'OK' });
    const version = await docker('GET', '/version');
    expect(version.status).toBe(200);
    const info = JSON.parse(version.body) as { ApiVersion: string; Os: string };
    expect(info.Os).toBe('linux');
    expect(info.ApiVersion).toMatch(/^1\.\d+$/);
  });

  it('pulls from the loopback registry over plain HTTP', async () => {
    const repo = `kimg-selftest/docker-${runId}`;
    await skopeoPush(layout, tag, `${env.registry}/${repo}:${tag}`);
    const image = `${env.registry}/${repo}`;
    const pull = await docker('POST', `/images/create?fromImage=${encodeURIComponent(image)}&tag=${tag}`);
    expect(pull.status).toBe(200);
    expect(pull.body).not.toMatch(/"error"/);
    const inspect = await docker('GET', `/images/${encodeURIComponent(`${image}:${tag}`)}/json`);
    expect(inspect.status).toBe(200);
    const details = JSON.parse(inspect.body) as { RepoDigests: string[] };
    expect(details.RepoDigests).toContain(`${image}@${layout.manifestDigest}`);
    const removed = await docker('DELETE', `/images/${encodeURIComponent(`${image}:${tag}`)}?force=1`);
    expect(removed.status).toBe(200);
  });
});
