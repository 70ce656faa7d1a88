// The pure parts of the Docker engine adapter: DOCKER_HOST parsing, the progress stream fold, auth
// payloads, engine names, failure messages → errors, docker-archive manifest, load responses.
import { describe, expect, it } from 'vitest';
import { engineAddress, DEFAULT_DOCKER_SOCKET } from '../../../src/engine/docker-host.js';
import { applyPullMessage, layerProgressId, parsePullMessage, pullProgressState, type PullProgressState } from '../../../src/engine/docker-progress.js';
import { authConfigFor, engineImageName, enginePullError } from '../../../src/engine/docker-pull.js';
import { dockerArchiveManifest } from '../../../src/engine/docker-archive.js';
import { parseLoadResponse } from '../../../src/engine/docker-load.js';
import { engineMessage, engineUnreachable } from '../../../src/engine/docker.js';
import { ExitCode, exitCodeOf } from '../../../src/errors.js';

const HEX = 'a'.repeat(64);

describe('engineAddress (DOCKER_HOST)', () => {
  it('defaults to the standard socket and says so', () => {
    expect(engineAddress({})).toEqual({ kind: 'unix', socketPath: DEFAULT_DOCKER_SOCKET, display: 'unix:///var/run/docker.sock', fromEnv: false });
    expect(engineAddress({ DOCKER_HOST: '' })).toMatchObject({ socketPath: DEFAULT_DOCKER_SOCKET, fromEnv: false });
  });
  it('reads unix:// and tcp:// (default ports, TLS from DOCKER_TLS_VERIFY)', () => {
    expect(engineAddress({ DOCKER_HOST: 'unix:///tmp/d.sock' })).toMatchObject({ kind: 'unix', socketPath: '/tmp/d.sock', fromEnv: true });
    expect(engineAddress({ DOCKER_HOST: 'tcp://127.0.0.1:2999' })).toMatchObject({ kind: 'tcp', host: '127.0.0.1', port: 2999, tls: false });
    expect(engineAddress({ DOCKER_HOST: 'tcp://127.0.0.1' })).toMatchObject({ port: 2375, tls: false });
    expect(engineAddress({ DOCKER_HOST: 'tcp://127.0.0.1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' })).toMatchObject({ port: 2376, tls: true, certPath: '/certs' });
    expect(engineAddress({ DOCKER_HOST: 'tcp://[::1]:2375' })).toMatchObject({ host: '::1', port: 2375 });
  });
  it('refuses what it cannot dial, as a usage error naming the forms it accepts', () => {
    for (const bad of ['unix://relative.sock', 'ssh://me@host', 'npipe:////./pipe/docker_engine', '/var/run/docker.sock', 'tcp://']) {
      let err: unknown;
      try { engineAddress({ DOCKER_HOST: bad }); } catch (e) { err = e; }
      expect(err, bad).toMatchObject({ code: 'BAD_DOCKER_HOST', kind: 'usage' });
      expect((err as { hint: string }).hint).toContain('DOCKER_HOST=unix://');
    }
  });
});

describe('engineUnreachable', () => {
  it('names the socket tried, why, and how to set DOCKER_HOST; exit 1', () => {
    const e = engineUnreachable(engineAddress({}), Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }));
    expect(e.code).toBe('ENGINE_UNREACHABLE');
    expect(e.message).toBe('no Docker engine answers at the default socket unix:///var/run/docker.sock (DOCKER_HOST is not set): no such socket');
    expect(e.hint).toContain('DOCKER_HOST=');
    expect(exitCodeOf(e)).toBe(ExitCode.operational);
    const fromEnv = engineUnreachable(engineAddress({ DOCKER_HOST: 'tcp://127.0.0.1:1' }), Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
    expect(fromEnv.message).toBe('no Docker engine answers at tcp://127.0.0.1:1 (from DOCKER_HOST): connection refused');
    const denied = engineUnreachable(engineAddress({}), Object.assign(new Error('x'), { code: 'EACCES' }));
    expect(denied.hint).toContain('docker group');
  });
});

describe('pull progress stream', () => {
  const fold = (lines: string[]): PullProgressState => lines.reduce((s, l) => { const m = parsePullMessage(l); return m === undefined ? s : applyPullMessage(s, m); }, pullProgressState());

  it('parses JSON lines, keeps non-JSON text as a status, skips blank lines', () => {
    expect(parsePullMessage('')).toBeUndefined();
    expect(parsePullMessage('{"status":"Downloading","progressDetail":{"current":10,"total":100},"progress":"[=>  ]","id":"339c9e928d1b"}'))
      .toEqual({ id: '339c9e928d1b', status: 'Downloading', current: 10, total: 100, error: undefined });
    expect(parsePullMessage('{"errorDetail":{"message":"boom"},"error":"boom (short)"}')).toMatchObject({ error: 'boom' });
    expect(parsePullMessage('{"error":"only"}')).toMatchObject({ error: 'only' });
    expect(parsePullMessage('not json')).toEqual({ status: 'not json' });
  });

  it('folds a real pull: phases, bytes, digest, final status', () => {
    const s = fold([
      '{"status":"Pulling from kairos/core-opensuse","id":"v1.3.2"}',
      '{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}',
      '{"status":"Pulling fs layer","progressDetail":{},"id":"bbbbbbbbbbbb"}',
      '{"status":"Downloading","progressDetail":{"current":50,"total":200},"id":"aaaaaaaaaaaa"}',
      '{"status":"Verifying Checksum","progressDetail":{},"id":"aaaaaaaaaaaa"}',
      '{"status":"Download complete","progressDetail":{},"id":"aaaaaaaaaaaa"}',
      '{"status":"Extracting","progressDetail":{"current":100,"total":200},"id":"aaaaaaaaaaaa"}',
      '{"status":"Pull complete","progressDetail":{},"id":"aaaaaaaaaaaa"}',
      '{"status":"Already exists","progressDetail":{},"id":"bbbbbbbbbbbb"}',
      `{"status":"Digest: sha256:${HEX}"}`,
      '{"status":"Status: Downloaded newer image for 127.0.0.1:5000/kairos/core-opensuse:v1.3.2"}',
    ]);
    expect(Object.keys(s.layers)).toEqual(['aaaaaaaaaaaa', 'bbbbbbbbbbbb']); // the tag id is no layer
    expect(s.layers['aaaaaaaaaaaa']).toMatchObject({ phase: 'done', current: 200, total: 200, cached: false });
    expect(s.layers['bbbbbbbbbbbb']).toMatchObject({ phase: 'done', cached: true });
    expect(s.digest).toBe(`sha256:${HEX}`);
    expect(s.upToDate).toBe(false);
    expect(s.final).toMatch(/^Downloaded newer image/);
    expect(s.error).toBeUndefined();
  });

  it('tracks bytes within a phase and restarts them at a new phase', () => {
    const s1 = fold(['{"status":"Downloading","progressDetail":{"current":150,"total":200},"id":"x"}']);
    expect(s1.layers['x']).toMatchObject({ phase: 'downloading', current: 150, total: 200 });
    const s2 = applyPullMessage(s1, { id: 'x', status: 'Retrying in 5 seconds' });
    expect(s2.layers['x']).toMatchObject({ phase: 'retrying', current: 0, total: 200, status: 'Retrying in 5 seconds' });
    expect(s1.layers['x']?.phase).toBe('downloading'); // the old state is untouched
  });

  it('an image already present is up to date; an error line ends with the error', () => {
    expect(fold(['{"status":"Status: Image is up to date for x:1"}']).upToDate).toBe(true);
    expect(fold(['{"status":"Pulling fs layer","id":"a"}', '{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}']).error).toBe('manifest unknown');
  });

  it('names layers as the engine does (12 hex digits of the compressed digest)', () => {
    expect(layerProgressId(`sha256:339c9e928d1b${'0'.repeat(52)}`)).toBe('339c9e928d1b');
  });
});

describe('authConfigFor (X-Registry-Auth payload)', () => {
  it('maps every kind of credential, and none to anonymous', () => {
    expect(authConfigFor('quay.io', undefined)).toBeUndefined();
    expect(authConfigFor('quay.io', {})).toBeUndefined();
    expect(authConfigFor('quay.io', { username: 'u', password: 'p' })).toEqual({ username: 'u', password: 'p', serveraddress: 'quay.io' });
    expect(authConfigFor('quay.io', { identityToken: 'it' })).toEqual({ identitytoken: 'it', serveraddress: 'quay.io' });
    expect(authConfigFor('quay.io', { registryToken: 'rt', username: 'u' })).toEqual({ registrytoken: 'rt', serveraddress: 'quay.io' });
  });
});

describe('engineImageName', () => {
  it('tag, digest, default tag', () => {
    expect(engineImageName({ registry: '127.0.0.1:5000', repository: 'kairos/core-opensuse', tag: 'v1.3.2' }))
      .toEqual({ repository: '127.0.0.1:5000/kairos/core-opensuse', tagOrDigest: 'v1.3.2', name: '127.0.0.1:5000/kairos/core-opensuse:v1.3.2' });
    expect(engineImageName({ registry: 'quay.io', repository: 'kairos/x', tag: 't', digest: `sha256:${HEX}` }).name).toBe(`quay.io/kairos/x@sha256:${HEX}`);
    expect(engineImageName({ registry: 'quay.io', repository: 'kairos/x' }).tagOrDigest).toBe('latest');
  });
});

describe('enginePullError', () => {
  const ctx = { reference: 'reg.example:5000/kairos/x:v1', registry: 'reg.example:5000', platform: 'linux/amd64', plainHttp: true };
  it('an engine refusing plain HTTP: says how to configure insecure registries', () => {
    const e = enginePullError('Get "https://reg.example:5000/v2/": http: server gave HTTP response to HTTPS client', ctx);
    expect(e.code).toBe('ENGINE_REFUSES_HTTP');
    expect(e.hint).toContain('"insecure-registries": ["reg.example:5000"]');
    expect(e.hint).toContain('/etc/docker/daemon.json');
    expect(e.hint).toContain('127.0.0.0/8');
  });
  it('platform, auth, not found, anything else', () => {
    expect(enginePullError('no matching manifest for linux/arm64/v8 in the manifest list entries', ctx).code).toBe('ENGINE_PLATFORM_MISSING');
    expect(enginePullError('unauthorized: authentication required', ctx).code).toBe('ENGINE_UNAUTHORIZED');
    expect(enginePullError('manifest for x not found: manifest unknown: manifest unknown', ctx).code).toBe('ENGINE_IMAGE_NOT_FOUND');
    const other = enginePullError('disk full', ctx);
    expect(other.code).toBe('ENGINE_PULL_FAILED');
    expect(other.message).toContain('disk full');
    expect(exitCodeOf(other)).toBe(1);
  });
  it('never lets a credential through', () => {
    expect(enginePullError('failed: Authorization: Basic dXNlcjpwYXNz', ctx).message).not.toContain('dXNlcjpwYXNz');
  });
});

describe('engineMessage', () => {
  it('the engine JSON message, else the error text', () => {
    expect(engineMessage(Object.assign(new Error('(HTTP code 404) no such image'), { json: { message: 'No such image: x' } }))).toBe('No such image: x');
    expect(engineMessage(Object.assign(new Error('e'), { json: Buffer.from('plain body\n') }))).toBe('plain body');
    expect(engineMessage(new Error('bare'))).toBe('bare');
  });
});

describe('dockerArchiveManifest', () => {
  it('Config <hex>.json, layers <hex>.tar in order (duplicates kept), RepoTags as given', () => {
    const b = `sha256:${'b'.repeat(64)}`;
    const c = `sha256:${'c'.repeat(64)}`;
    expect(dockerArchiveManifest({ configDigest: `sha256:${HEX}`, layerDigests: [b, c, b], repoTags: ['r/x:1'] })).toEqual([
      { Config: `${HEX}.json`, RepoTags: ['r/x:1'], Layers: [`${'b'.repeat(64)}.tar`, `${'c'.repeat(64)}.tar`, `${'b'.repeat(64)}.tar`] },
    ]);
  });
});

describe('parseLoadResponse', () => {
  it('loaded names and IDs; the first error', () => {
    expect(parseLoadResponse(['{"stream":"Loaded image: r/x:1\\n"}', '', `{"stream":"Loaded image ID: sha256:${HEX}\\n"}`]))
      .toEqual({ loaded: ['r/x:1', `sha256:${HEX}`], error: undefined });
    expect(parseLoadResponse(['{"errorDetail":{"message":"layer does not match"},"error":"x"}', '{"error":"second"}']).error).toBe('layer does not match');
    expect(parseLoadResponse(['unexpected EOF']).error).toBe('unexpected EOF');
  });
});
