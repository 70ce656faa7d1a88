// The mirror configuration (issue 17): resolve, tags, pull and unpack of quay.io names served by
// a configured mirror with the canonical names in the output (JSON and GITHUB_OUTPUT), the first
// mirror that has the content wins, --offline never asks the upstream, bad configurations name
// the key; and a pull through a CNCF distribution registry in proxy mode (a pull-through cache).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { buildImage, pushImage } from '../../scripts/fixtures/image-builder.mjs';
import { testEnv } from '../helpers/env.js';
import { json, runCli } from '../helpers/cli.js';

const env = testEnv();
let work: string;
let config: string;

function cli(args: string[], extra: NodeJS.ProcessEnv = {}) {
  return runCli(args, { env: { KAIROS_IMG_CACHE: path.join(work, 'cache'), KAIROS_IMG_CONFIG: config, ...extra } });
}

async function writeConfig(file: string, text: string): Promise<string> {
  await writeFile(file, text);
  return file;
}

beforeAll(async () => {
  await seed({ registry: env.registry, set: 'test' });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-mirror-config-'));
  // quay.io is served by the test registry; a first mirror where nothing listens is passed over.
  config = await writeConfig(path.join(work, 'config.yaml'), [
    'mirrors:',
    '  quay.io:',
    '    - host: 127.0.0.1:9',
    '      plainHttp: true',
    `    - host: ${env.registry}`,
    '      plainHttp: true',
  ].join('\n'));
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('commands read quay.io names from the configured mirror and print the canonical names', () => {
  it('resolve asks the mirror for the newest release', async () => {
    const r = await cli(['resolve', 'opensuse', 'core', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ reference: string }>(r).reference).toBe('quay.io/kairos/core-opensuse:v1.4.0');
  });

  it('tags lists the repository through the mirror under its quay.io name', async () => {
    const r = await cli(['tags', 'quay.io/kairos/core-opensuse', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = json<{ repositories: string[]; tags: Array<{ tag: string }> }>(r);
    expect(d.repositories).toEqual(['quay.io/kairos/core-opensuse']);
    expect(d.tags.map((t) => t.tag)).toContain('v1.4.0');
  });

  it('pull and unpack: the digest of the mirror\'s image, quay.io in JSON and GITHUB_OUTPUT', async () => {
    const outputs = path.join(work, 'github-output');
    await writeFile(outputs, '');
    const direct = await runCli(['pull', `${env.registry}/kairos/core-opensuse:v1.4.0`, '--plain-http', '--json', '-q'], { env: { KAIROS_IMG_CACHE: path.join(work, 'cache-direct') } });
    expect(direct.code, direct.stderr).toBe(0);
    const r = await cli(['pull', 'quay.io/kairos/core-opensuse:v1.4.0', '--json', '-q'], { GITHUB_OUTPUT: outputs });
    expect(r.code, r.stderr).toBe(0);
    const d = json<{ reference: string; digest: string }>(r);
    expect(d.reference).toBe('quay.io/kairos/core-opensuse:v1.4.0');
    expect(d.digest).toBe(json<{ digest: string }>(direct).digest);
    const written = await readFile(outputs, 'utf8');
    expect(written).toContain('reference=quay.io/kairos/core-opensuse:v1.4.0');
    expect(written).not.toContain(env.registry);

    const dir = path.join(work, 'rootfs');
    const u = await cli(['unpack', 'opensuse', 'core', '--version', 'v1.3.2', dir, '--json', '-q']);
    expect(u.code, u.stderr).toBe(0);
    expect(json<{ reference: string }>(u).reference).toBe('quay.io/kairos/core-opensuse:v1.3.2');
    expect(existsSync(path.join(dir, 'etc', 'os-release'))).toBe(true);
  });

  it('--offline asks the mirrors only: what they lack is an error saying so', async () => {
    const r = await cli(['pull', 'quay.io/kairos/not-mirrored:v1.0.0', '--offline', '--json', '-q']);
    expect(r.code).toBe(1);
    const e = json<{ error: { code: string; message: string } }>(r).error;
    expect(['NAME_UNKNOWN', 'MANIFEST_UNKNOWN']).toContain(e.code);
    expect(e.message).toContain(`offline: only the mirrors of quay.io were asked`);
    expect(e.message).toContain(env.registry);
    // Without --offline the upstream is asked last (and here, without a network, cannot be reached).
    const online = await cli(['pull', 'quay.io/kairos/not-mirrored:v1.0.0', '--json', '-q']);
    expect(online.code).toBe(1);
    expect(json<{ error: { code: string; message: string } }>(online).error.message).toContain('quay.io');
    expect(json<{ error: { code: string } }>(online).error.code).toBe('REGISTRY_UNREACHABLE');
  });

  it('an invalid configuration is a usage error naming the key', async () => {
    const bad = await writeConfig(path.join(work, 'bad.yaml'), 'mirrors:\n  quay.io:\n    - host: https://registry.site.local/v2\n      plainHttp: maybe\n');
    const r = await cli(['pull', 'quay.io/kairos/core-opensuse:v1.4.0', '--json', '-q'], { KAIROS_IMG_CONFIG: bad });
    expect(r.code).toBe(2);
    const e = json<{ error: { code: string; message: string } }>(r).error;
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('mirrors.quay.io[0].host');
    expect(e.message).toContain('mirrors.quay.io[0].plainHttp');
    const missing = await cli(['tags', 'quay.io/kairos/core-opensuse', '--json'], { KAIROS_IMG_CONFIG: path.join(work, 'none.yaml') });
    expect([missing.code, json<{ error: { code: string } }>(missing).error.code]).toEqual([2, 'CONFIG_INVALID']);
  });
});

describe('a pull-through cache (distribution in proxy mode) as the mirror', () => {
  it('the pull goes through the proxy, which keeps the blobs; names stay the upstream\'s', async () => {
    // A fresh image the proxy has never seen.
    const dir = path.join(work, 'fresh-layout');
    const img = await buildImage({
      dir, tag: 'v1',
      layers: [{ compression: 'gzip', entries: [{ path: 'etc/', type: 'dir' }, { path: 'etc/proxied', type: 'file', content: randomBytes(4096) }] }],
    });
    const ref = `${env.registry}/test/proxied-${randomBytes(4).toString('hex')}:v1`;
    await pushImage({ layoutDir: dir, tag: 'v1', dest: ref });
    const layer = img.layers[0]?.digest.slice(7) ?? '';
    const cached = path.join(env.registryProxyStorage, 'docker', 'registry', 'v2', 'blobs', 'sha256', layer.slice(0, 2), layer, 'data');
    expect(existsSync(cached)).toBe(false);

    const proxyConfig = await writeConfig(path.join(work, 'proxy.yaml'), `mirrors:\n  ${env.registry}:\n    - host: ${env.registryProxy}\n      plainHttp: true\n`);
    const out = path.join(work, 'proxied-root');
    const r = await cli(['unpack', ref, out, '--plain-http', '--json', '-q', '-v'], { KAIROS_IMG_CONFIG: proxyConfig });
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ reference: string; digest: string }>(r)).toMatchObject({ reference: ref, digest: img.manifestDigest });
    expect(existsSync(path.join(out, 'etc', 'proxied'))).toBe(true);
    // The proxy fetched the layer from its upstream and keeps it: the next node gets it from the site.
    expect(existsSync(cached)).toBe(true);
  });
});
