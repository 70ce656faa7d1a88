// The pure half of mirror: options, destinations, names, and the index filter of --arch.
import { describe, expect, it } from 'vitest';
import {
  destinationReference, filterIndex, layoutName, nameAsReference, parseArches, parseMirrorDestination, parseVersions, selectVersions,
} from '../../../src/operations/mirror-plan.js';

describe('--versions', () => {
  const versions = ['v2.4.3', 'v2.3.1', 'v2.3.0', 'v2.4.3', 'v3.0.0-rc1', 'v1.6.0', 'v3.1.0'];
  it('latest, the newest N, a range (with or without v); pre-releases never count', () => {
    expect(selectVersions(versions, parseVersions(undefined))).toEqual(['v3.1.0']);
    expect(selectVersions(versions, parseVersions('3'))).toEqual(['v3.1.0', 'v2.4.3', 'v2.3.1']);
    expect(selectVersions(versions, parseVersions('>=v2.3.1 <3'))).toEqual(['v2.4.3', 'v2.3.1']);
    expect(selectVersions(versions, parseVersions('v2.3.x'))).toEqual(['v2.3.1', 'v2.3.0']);
    expect(selectVersions(versions, parseVersions('^1'))).toEqual(['v1.6.0']);
  });
  it('refuses what is none of those', () => {
    expect(() => parseVersions('newest')).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    expect(() => parseVersions('0')).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});

describe('--arch', () => {
  it('all or a list', () => {
    expect(parseArches(undefined)).toBe('all');
    expect(parseArches('amd64, arm64')).toEqual(['amd64', 'arm64']);
    expect(() => parseArches('amd64;rm')).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});

describe('--to', () => {
  it('a registry prefix, a layout, an archive', () => {
    expect(parseMirrorDestination('reg.local/mirror')).toMatchObject({ kind: 'registry', registry: 'reg.local', prefix: 'mirror' });
    expect(parseMirrorDestination('127.0.0.1:5000')).toMatchObject({ kind: 'registry', registry: '127.0.0.1:5000', prefix: '' });
    expect(parseMirrorDestination('oci:/media/usb')).toMatchObject({ kind: 'oci', dir: '/media/usb' });
    expect(parseMirrorDestination('oci-archive:/tmp/k.tar')).toMatchObject({ kind: 'oci-archive', file: '/tmp/k.tar' });
  });
  it('refuses schemes, bare words, tags on layouts, bad prefixes', () => {
    for (const t of ['https://reg.local', 'mirror', 'oci:', 'oci:/d:v1', 'reg.local/Bad Prefix']) {
      expect(() => parseMirrorDestination(t), t).toThrow(expect.objectContaining({ code: 'BAD_DESTINATION' }));
    }
    expect(() => parseMirrorDestination(undefined)).toThrow(expect.objectContaining({ code: 'MISSING_OPTION' }));
  });
});

describe('names', () => {
  it('a registry destination keeps the repository path under the prefix; a layout names <repository>:<tag>', () => {
    expect(destinationReference({ repository: 'kairos/ubuntu', tag: 'T' }, { registry: 'reg.local', prefix: 'mirror' })).toEqual({ registry: 'reg.local', repository: 'mirror/kairos/ubuntu', tag: 'T' });
    expect(destinationReference({ repository: 'kairos/ubuntu', digest: 'sha256:a' }, { registry: 'r:5', prefix: '' })).toEqual({ registry: 'r:5', repository: 'kairos/ubuntu', digest: 'sha256:a' });
    expect(layoutName({ repository: 'kairos/ubuntu', tag: 'T' })).toBe('kairos/ubuntu:T');
    expect(nameAsReference('kairos/ubuntu:T')).toEqual({ repository: 'kairos/ubuntu', tag: 'T', digest: undefined });
    expect(nameAsReference('v1')).toBeUndefined();
  });
});

describe('filterIndex', () => {
  const d = (digest: string, architecture: string, os = 'linux', annotations?: Record<string, string>) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1, platform: { os, architecture }, ...(annotations ? { annotations } : {}),
  });
  const index = {
    schemaVersion: 2 as const,
    manifests: [d('a', 'amd64'), d('b', 'arm64'), d('c', 'unknown', 'unknown', { 'vnd.docker.reference.digest': 'a' }), d('e', 'unknown', 'unknown', { 'vnd.docker.reference.digest': 'b' })],
  };
  it('keeps every entry (undefined: the original bytes) for all, or when nothing is dropped', () => {
    expect(filterIndex(index, 'all')).toBeUndefined();
    expect(filterIndex(index, ['amd64', 'arm64'])).toBeUndefined();
  });
  it('drops the other platforms and their attestations', () => {
    expect(filterIndex(index, ['arm64'])?.index.manifests.map((m) => m.digest)).toEqual(['b', 'e']);
  });
});
