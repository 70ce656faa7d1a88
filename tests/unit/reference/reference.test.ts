import { describe, expect, it } from 'vitest';
import { formatReference, parseReference, rewriteRegistry, withTag, manifestSelector, normalizeRegistryHost } from '../../../src/reference/reference.js';
import { KairosImgError } from '../../../src/errors.js';

const HEX = 'a'.repeat(64);

function bad(input: string): string {
  try {
    parseReference(input);
  } catch (e) {
    expect(e).toBeInstanceOf(KairosImgError);
    expect((e as KairosImgError).code).toBe('BAD_REFERENCE');
    expect((e as KairosImgError).kind).toBe('usage');
    return (e as Error).message;
  }
  throw new Error(`expected ${input} to be rejected`);
}

describe('parseReference', () => {
  it.each([
    ['quay.io/kairos/core-opensuse:v1.5.0', { registry: 'quay.io', repository: 'kairos/core-opensuse', tag: 'v1.5.0' }],
    ['alpine', { registry: 'docker.io', repository: 'library/alpine' }],
    ['alpine:3.18', { registry: 'docker.io', repository: 'library/alpine', tag: '3.18' }],
    ['user/repo', { registry: 'docker.io', repository: 'user/repo' }],
    ['index.docker.io/library/ubuntu:22.04', { registry: 'docker.io', repository: 'library/ubuntu', tag: '22.04' }],
    ['localhost/foo', { registry: 'localhost', repository: 'foo' }],
    ['localhost:5000/foo/bar:1', { registry: 'localhost:5000', repository: 'foo/bar', tag: '1' }],
    ['127.0.0.1:5000/kairos/core-alpine-arm-rpi:v1.1.7.img', { registry: '127.0.0.1:5000', repository: 'kairos/core-alpine-arm-rpi', tag: 'v1.1.7.img' }],
    [`quay.io/kairos/ubuntu@sha256:${HEX}`, { registry: 'quay.io', repository: 'kairos/ubuntu', digest: `sha256:${HEX}` }],
    [`quay.io/kairos/ubuntu:22.04-core-amd64-generic-v2.4.3@sha256:${HEX}`, { registry: 'quay.io', repository: 'kairos/ubuntu', tag: '22.04-core-amd64-generic-v2.4.3', digest: `sha256:${HEX}` }],
    ['ghcr.io/siderolabs/installer:v1.3.7', { registry: 'ghcr.io', repository: 'siderolabs/installer', tag: 'v1.3.7' }],
    ['a.b/c__d/e-f.g_h:T_1.0-x', { registry: 'a.b', repository: 'c__d/e-f.g_h', tag: 'T_1.0-x' }],
    ['[::1]:5000/foo:bar', { registry: '[::1]:5000', repository: 'foo', tag: 'bar' }],
    [`x.io/a@sha512:${'b'.repeat(128)}`, { registry: 'x.io', repository: 'a', digest: `sha512:${'b'.repeat(128)}` }],
  ])('%s', (input, want) => {
    expect(parseReference(input)).toEqual({ tag: undefined, digest: undefined, ...want });
  });

  it('round-trips through formatReference in canonical form', () => {
    expect(formatReference(parseReference('alpine:3'))).toBe('docker.io/library/alpine:3');
    const full = `quay.io/kairos/kairos-ubuntu-22-lts:v1.5.1-k3sv1.26.1-k3s1@sha256:${HEX}`;
    expect(formatReference(parseReference(full))).toBe(full);
  });

  it.each([
    ['', 'it is empty'],
    ['quay.io/Kairos/core', 'must be lowercase'],
    ['quay.io/kairos/core:', 'tag "" may contain only'],
    ['quay.io/kairos/core:-x', 'tag "-x"'],
    ['quay.io/kairos/core:.x', 'tag ".x"'],
    [`quay.io/kairos/core:${'a'.repeat(129)}`, 'limit is 128'],
    ['quay.io/kairos/core@sha256:abc', '64 lowercase hex'],
    [`quay.io/kairos/core@sha256:${'A'.repeat(64)}`, '64 lowercase hex'],
    [`quay.io/kairos/core@md5`, 'must be <algorithm>:<hex>'],
    [`quay.io/kairos/core@SHA256:${HEX}`, 'algorithm "SHA256"'],
    ['quay.io//core', 'empty path component'],
    ['quay.io/kairos/core-', 'path component "core-"'],
    ['quay.io/kairos/-core', 'path component "-core"'],
    ['quay.io/ka..irs/core', 'path component "ka..irs"'],
    ['https://quay.io/kairos/core', 'URL scheme'],
    ['quay.io/kairos/core v1', 'whitespace'],
    ['quay.io:99999/x', 'port 99999'],
    [`quay.io/${'a'.repeat(250)}`, 'longer than 255'],
  ])('rejects %s', (input, problem) => {
    expect(bad(input)).toContain(problem);
  });

  it('exactly 128 characters of tag is accepted', () => {
    expect(parseReference(`x.io/a:${'a'.repeat(128)}`).tag).toHaveLength(128);
  });
});

describe('helpers', () => {
  it('rewriteRegistry swaps only the named upstream and keeps the path', () => {
    const r = parseReference('quay.io/kairos/core-opensuse:v1.4.0');
    expect(formatReference(rewriteRegistry(r, 'quay.io', '127.0.0.1:5000'))).toBe('127.0.0.1:5000/kairos/core-opensuse:v1.4.0');
    expect(rewriteRegistry(r, 'ghcr.io', '127.0.0.1:5000')).toBe(r);
    expect(rewriteRegistry(r, 'quay.io', undefined)).toBe(r);
    expect(formatReference(rewriteRegistry(r, 'quay.io', 'http://mirror.local:8080/'))).toBe('mirror.local:8080/kairos/core-opensuse:v1.4.0');
  });
  it('normalizeRegistryHost rejects paths and spaces', () => {
    expect(() => normalizeRegistryHost('a b')).toThrow(KairosImgError);
    expect(() => normalizeRegistryHost('host/path')).toThrow(/HOST\[:PORT\]/);
  });
  it('withTag validates', () => {
    const r = parseReference('quay.io/kairos/core');
    expect(withTag(r, 'v1').tag).toBe('v1');
    expect(() => withTag(r, 'bad tag')).toThrow(KairosImgError);
  });
  it('manifestSelector prefers the digest and needs one of the two', () => {
    expect(manifestSelector(parseReference(`x.io/a:t@sha256:${HEX}`))).toBe(`sha256:${HEX}`);
    expect(manifestSelector(parseReference('x.io/a:t'))).toBe('t');
    expect(() => manifestSelector(parseReference('x.io/a'))).toThrow(/neither a tag nor a digest/);
  });
});
