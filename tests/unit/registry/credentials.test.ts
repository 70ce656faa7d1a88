import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  credentialsFromEntry, credentialsFromHelperOutput, dockerConfigCredentials, dockerConfigPath, findAuthEntry, helperFor, helperServerUrl, normalizeAuthKey,
} from '../../../src/registry/credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('docker config lookup (pure)', () => {
  it('finds the config file from DOCKER_CONFIG or HOME', () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/x' })).toBe('/x/config.json');
    expect(dockerConfigPath({ HOME: '/home/u' })).toBe('/home/u/.docker/config.json');
  });
  it('normalizes keys written as URLs', () => {
    expect(normalizeAuthKey('https://quay.io/v2/')).toBe('quay.io');
    expect(normalizeAuthKey('http://127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });
  it('matches Docker Hub under its historical keys', () => {
    const config = { auths: { 'https://index.docker.io/v1/': { auth: b64('u:p') } } };
    expect(findAuthEntry(config, 'docker.io')?.key).toBe('https://index.docker.io/v1/');
    expect(findAuthEntry({ auths: { 'registry-1.docker.io': { auth: b64('u:p') } } }, 'docker.io')?.key).toBe('registry-1.docker.io');
    expect(helperServerUrl('docker.io')).toBe('https://index.docker.io/v1/');
    expect(findAuthEntry(config, 'quay.io')).toBeUndefined();
  });
  it('prefers an exact key and matches scheme-prefixed keys', () => {
    const config = { auths: { 'https://quay.io': { auth: b64('a:1') }, 'quay.io': { auth: b64('b:2') } } };
    expect(findAuthEntry(config, 'quay.io')?.key).toBe('quay.io');
    expect(findAuthEntry({ auths: { 'https://quay.io': {} } }, 'quay.io')?.key).toBe('https://quay.io');
  });
  it('decodes auth, username/password, identity and registry tokens', () => {
    expect(credentialsFromEntry({ auth: b64('user:pa:ss') })).toEqual({ username: 'user', password: 'pa:ss' });
    expect(credentialsFromEntry({ username: 'u', password: 'p' })).toEqual({ username: 'u', password: 'p' });
    expect(credentialsFromEntry({ identitytoken: 'idt' })).toEqual({ identityToken: 'idt' });
    expect(credentialsFromEntry({ registrytoken: 'rt' })).toEqual({ registryToken: 'rt' });
    expect(credentialsFromEntry({})).toBeUndefined();
  });
  it('picks credHelpers for the host before credsStore', () => {
    const config = { credHelpers: { 'quay.io': 'ecr-login' }, credsStore: 'desktop' };
    expect(helperFor(config, 'quay.io')).toEqual({ helper: 'ecr-login', field: 'credHelpers' });
    expect(helperFor(config, 'ghcr.io')).toEqual({ helper: 'desktop', field: 'credsStore' });
    expect(helperFor({}, 'ghcr.io')).toBeUndefined();
  });
  it('parses helper output, <token> meaning an identity token', () => {
    expect(credentialsFromHelperOutput('{"ServerURL":"x","Username":"u","Secret":"s"}')).toEqual({ username: 'u', password: 's' });
    expect(credentialsFromHelperOutput('{"Username":"<token>","Secret":"s"}')).toEqual({ identityToken: 's' });
    expect(credentialsFromHelperOutput('nope')).toBeUndefined();
  });
});

describe('dockerConfigCredentials (file + helper processes)', () => {
  it('reads auths and names the source without the secret', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kimg-cfg-'));
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ auths: { '127.0.0.1:5002': { auth: b64('alice:s3cret') } } }));
    const src = dockerConfigCredentials({ env: { DOCKER_CONFIG: dir } });
    const found = await src.lookup('127.0.0.1:5002');
    expect(found.credentials).toEqual({ username: 'alice', password: 's3cret' });
    expect(found.source).toBe(`auths["127.0.0.1:5002"] in ${dir}/config.json`);
    const none = await src.lookup('127.0.0.1:5001');
    expect(none.credentials).toBeUndefined();
    expect(none.source).toBe(`no credentials for 127.0.0.1:5001 in ${dir}/config.json`);
  });
  it('runs docker-credential-<name> get with the host on stdin', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kimg-cfg-'));
    const bin = path.join(dir, 'docker-credential-kimgtest');
    await writeFile(bin, '#!/bin/sh\nread host\nif [ "$host" = "127.0.0.1:5002" ]; then echo "{\\"Username\\":\\"bob\\",\\"Secret\\":\\"pw-$host\\"}"; else echo "credentials not found in native keychain"; exit 1; fi\n');
    await chmod(bin, 0o755);
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ credsStore: 'kimgtest' }));
    const oldPath = process.env.PATH;
    process.env.PATH = `${dir}:${oldPath ?? ''}`;
    try {
      const src = dockerConfigCredentials({ env: { DOCKER_CONFIG: dir } });
      const found = await src.lookup('127.0.0.1:5002');
      expect(found.credentials).toEqual({ username: 'bob', password: 'pw-127.0.0.1:5002' });
      expect(found.source).toContain('docker-credential-kimgtest (credsStore');
      expect((await src.lookup('127.0.0.1:9')).credentials).toBeUndefined();
    } finally {
      process.env.PATH = oldPath;
    }
  });
  it('names a missing helper binary', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kimg-cfg-'));
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ credHelpers: { 'quay.io': 'kimg-absent' } }));
    await expect(dockerConfigCredentials({ env: { DOCKER_CONFIG: dir } }).lookup('quay.io'))
      .rejects.toMatchObject({ code: 'CREDENTIAL_HELPER_MISSING', message: expect.stringContaining('docker-credential-kimg-absent') });
  });
  it('does not echo a broken config file (it holds secrets)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kimg-cfg-'));
    await writeFile(path.join(dir, 'config.json'), '{"auths": {"x": {"auth": "c2VjcmV0"}');
    const err = await dockerConfigCredentials({ env: { DOCKER_CONFIG: dir } }).lookup('x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DOCKER_CONFIG_INVALID' });
    expect(String((err as Error).message)).not.toContain('c2VjcmV0');
  });
});
