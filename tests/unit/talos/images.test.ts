import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultFlavorsDir } from '../../../src/catalog/yaml-file.js';
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
    expect(code(() => ref('installer', 'vv1.3.7'))).toBe('BAD_VERSION');
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

describe('plugged into the shared target and resolution', async () => {
  const { parseTarget } = await import('../../../src/cli/target.js');
  const { resolve } = await import('../../../src/operations/resolve.js');
  it('parseTarget recognises `talos <image>`', () => {
    expect(parseTarget(['talos', 'installer'], { usage: 'u', defaultVariant: 'core' })).toEqual({ kind: 'catalog', os: 'talos', flavor: 'talos', variant: 'installer' });
    expect(code(() => parseTarget(['talos'], { usage: 'u', defaultVariant: 'core' }))).toBe('MISSING_ARGUMENT');
    expect(parseTarget(['ubuntu', 'core'], { usage: 'u' })).toEqual({ kind: 'catalog', os: 'kairos', flavor: 'ubuntu', variant: 'core' });
  });
  it('resolve() dispatches on the OS, offline with a release', async () => {
    const r = await resolve({ flavor: 'talos', variant: 'imager', version: 'v1.9.0', registry: 'mirror.local:5000' });
    expect(formatReference(r.reference)).toBe('mirror.local:5000/siderolabs/imager:v1.9.0');
    expect(r.discovered).toBe(false);
    await expect(resolve({ flavor: 'talos', variant: 'installer' })).rejects.toMatchObject({ code: 'MISSING_INPUT' });
    await expect(resolve({ flavor: 'talos', variant: 'installer', version: 'v1.3.7', k3s: 'v1.26.1+k3s1' })).rejects.toMatchObject({ code: 'UNEXPECTED_K3S' });
  });
  it('discovers through the injected tag source', async () => {
    const asked: string[] = [];
    const tags = { listTags: async (repo: { registry: string; repository: string }) => { asked.push(`${repo.registry}/${repo.repository}`); return ['v1.3.6', 'v1.3.7', 'v1.4.0']; } };
    const r = await resolve({ flavor: 'talos', variant: 'installer', version: '1.3', tags });
    expect(formatReference(r.reference)).toBe('ghcr.io/siderolabs/installer:v1.3.7');
    expect(asked).toEqual(['ghcr.io/siderolabs/installer']);
    expect(r.discovered).toBe(true);
  });
});
