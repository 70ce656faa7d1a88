import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultFlavorsDir } from '../../../src/catalog/load.js';
import { parseTalosMatrix } from '../../../src/catalog/talos/load.js';
import { newestTalosRelease, resolveTalosImage } from '../../../src/catalog/talos/images.js';
import { formatReference } from '../../../src/reference/reference.js';
import { KairosImgError } from '../../../src/errors.js';

const matrix = parseTalosMatrix(readFileSync(`${defaultFlavorsDir()}/talos.yaml`, 'utf8'), 'flavors/talos.yaml');
const ref = (image: string, version: string, registry?: string): string => formatReference(resolveTalosImage(matrix, { image, version, registry, hostArch: 'amd64' }).reference);
function code(f: () => unknown): string {
  try { f(); } catch (e) { expect(e).toBeInstanceOf(KairosImgError); expect((e as KairosImgError).kind).toBe('usage'); return (e as KairosImgError).code; }
  throw new Error('expected a usage error');
}

describe('Talos image names', () => {
  it('names ghcr.io/siderolabs/<image>:<version>', () => {
    expect(ref('installer', 'v1.3.7')).toBe('ghcr.io/siderolabs/installer:v1.3.7');
    expect(ref('installer', '1.3.7')).toBe('ghcr.io/siderolabs/installer:v1.3.7');
    expect(ref('imager', 'v1.9.0')).toBe('ghcr.io/siderolabs/imager:v1.9.0');
    expect(ref('talos', 'v1.13.0')).toBe('ghcr.io/siderolabs/talos:v1.13.0');
    expect(ref('installer-base', 'v1.10.0-beta.0')).toBe('ghcr.io/siderolabs/installer-base:v1.10.0-beta.0');
  });
  it('rewrites ghcr.io with --registry', () => {
    expect(ref('installer', 'v1.3.7', '127.0.0.1:5000')).toBe('127.0.0.1:5000/siderolabs/installer:v1.3.7');
  });
  it('knows when each image is published (installer up to 1.13, installer-base from 1.10)', () => {
    expect(ref('installer', 'v1.13.2')).toBe('ghcr.io/siderolabs/installer:v1.13.2');
    expect(code(() => ref('installer', 'v1.14.0'))).toBe('IMAGE_NOT_PUBLISHED');
    expect(code(() => ref('installer-base', 'v1.9.6'))).toBe('IMAGE_NOT_PUBLISHED');
    expect(ref('installer-base', 'v1.10.0')).toBe('ghcr.io/siderolabs/installer-base:v1.10.0');
  });
  it('answers unknown images and bad versions as usage errors', () => {
    expect(code(() => ref('instaler', 'v1.3.7'))).toBe('UNKNOWN_TALOS_IMAGE');
    expect(code(() => ref('installer', '1.3'))).toBe('BAD_VERSION');
    expect(code(() => resolveTalosImage(matrix, { image: 'installer', version: 'v1.3.7', arch: 'riscv64' }))).toBe('UNSUPPORTED_ARCH');
  });
  it('resolves like a catalog image (flavor talos, variant the image, arch)', () => {
    const r = resolveTalosImage(matrix, { image: 'installer', version: 'v1.3.7', arch: 'aarch64' });
    expect(r).toMatchObject({ flavor: 'talos', variant: 'installer', version: 'v1.3.7', arch: 'arm64', kind: 'image' });
  });
  it('picks the newest release from a tag list', () => {
    const tags = ['v1.3.6', 'v1.3.7', 'v1.4.0-beta.0', 'latest', 'v1.10.1', 'v1.9.6', 'sha256-abc.sig', 'v1.14.0'];
    expect(newestTalosRelease(matrix, 'installer', tags)).toBe('v1.10.1');
    expect(newestTalosRelease(matrix, 'talos', tags)).toBe('v1.14.0');
    expect(newestTalosRelease(matrix, 'installer', tags, { minor: '1.3' })).toBe('v1.3.7');
    expect(newestTalosRelease(matrix, 'installer-base', ['v1.9.6'])).toBeUndefined();
  });
});
