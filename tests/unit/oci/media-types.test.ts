import { describe, expect, it } from 'vitest';
import { MediaType, manifestMediaType, parseManifestDocument, selectPlatform, type ImageIndex } from '../../../src/oci/index.js';
import { KairosImgError } from '../../../src/errors.js';

const d = (architecture: string, variant?: string, os = 'linux') => ({
  mediaType: MediaType.ociManifest, digest: `sha256:${architecture}${variant ?? ''}`.padEnd(71, '0'), size: 1,
  platform: { architecture, os, ...(variant ? { variant } : {}) },
});

describe('media types', () => {
  it('lets Content-Type decide, then the document', () => {
    expect(manifestMediaType(`${MediaType.dockerManifest}; charset=utf-8`, {})).toBe(MediaType.dockerManifest);
    expect(manifestMediaType('application/json', { mediaType: MediaType.dockerList })).toBe(MediaType.dockerList);
    expect(manifestMediaType('application/octet-stream', { schemaVersion: 2, manifests: [] })).toBe(MediaType.ociIndex);
    expect(() => manifestMediaType('application/vnd.docker.distribution.manifest.v1+prettyjws', { schemaVersion: 1 }))
      .toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MEDIA_TYPE' }));
  });
  it('rejects malformed manifests', () => {
    const bad = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: 'x' }, layers: [] }));
    expect(() => parseManifestDocument(bad, MediaType.ociManifest, 'r')).toThrow(expect.objectContaining({ code: 'BAD_MANIFEST' }));
    expect(() => parseManifestDocument(Buffer.from('{'), MediaType.ociManifest, 'r')).toThrow(expect.objectContaining({ code: 'BAD_MANIFEST' }));
  });
});

describe('selectPlatform', () => {
  const index: ImageIndex = { schemaVersion: 2, manifests: [d('amd64'), d('arm64', 'v8'), d('arm', 'v7'), d('arm', 'v6'), { ...d('unknown', undefined, 'unknown') }] };
  it('picks the matching architecture and variant', () => {
    expect(selectPlatform(index, { os: 'linux', architecture: 'amd64' }, 'r').platform?.architecture).toBe('amd64');
    expect(selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v6' }, 'r').platform?.variant).toBe('v6');
    expect(selectPlatform(index, { os: 'linux', architecture: 'arm64' }, 'r').platform?.architecture).toBe('arm64');
  });
  it('treats arm64 without a variant as v8', () => {
    const idx: ImageIndex = { schemaVersion: 2, manifests: [d('arm64')] };
    expect(selectPlatform(idx, { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'r').platform?.architecture).toBe('arm64');
  });
  it('lists the platforms present when none matches (without attestations)', () => {
    try {
      selectPlatform(index, { os: 'linux', architecture: 's390x' }, 'quay.io/x:y');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KairosImgError);
      const err = e as KairosImgError;
      expect(err.code).toBe('PLATFORM_NOT_FOUND');
      expect(err.message).toContain('linux/amd64, linux/arm64/v8, linux/arm/v7, linux/arm/v6');
      expect(err.message).not.toContain('unknown');
      expect(err.details?.available).toHaveLength(4);
    }
  });
});
