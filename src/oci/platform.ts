/**
 * Platforms (image-spec image-index.md): the host's, matching, and the choice of one manifest
 * from an index. Pure; the one place that maps Node's `process.arch` to OCI names.
 */
import { KairosImgError } from '../errors.js';
import { kindOfMediaType, type Descriptor, type ImageIndex } from './media-types.js';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string | undefined;
  'os.version'?: string | undefined;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Node's process.arch → OCI architecture names. */
export function ociArch(nodeArch: string): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[nodeArch] ?? nodeArch;
}

// arm64 images without a variant are v8; arm without variant is usually v7 in practice.
function normalizedVariant(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  return undefined;
}

export function platformMatches(want: Platform, have: Platform): boolean {
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if (want.variant === undefined) return true;
  return normalizedVariant(want) === normalizedVariant(have);
}

/**
 * Picks the manifest for `want` from an index. Attestation manifests (buildkit's
 * `unknown/unknown`) never match a real platform. Without a match the error lists what is there.
 */
export function selectPlatform(index: ImageIndex, want: Platform, what: string): Descriptor {
  const candidates = index.manifests.filter((d) => kindOfMediaType(d.mediaType) === 'manifest' && d.platform !== undefined);
  const exact = candidates.find((d) => d.platform !== undefined && platformMatches(want, d.platform) &&
    (want.variant === undefined || d.platform.variant !== undefined || want.architecture === 'arm64'));
  const found = exact ?? candidates.find((d) => d.platform !== undefined && platformMatches(want, d.platform));
  if (found !== undefined) return found;
  const present = candidates.map((d) => formatPlatform(d.platform as Platform)).filter((p) => p !== 'unknown/unknown');
  throw new KairosImgError('PLATFORM_NOT_FOUND', `${what} has no image for ${formatPlatform(want)}; it has ${present.length > 0 ? present.join(', ') : 'no platform-specific images'}`, {
    hint: present.length > 0 ? `pick one with --arch, e.g. --arch ${present[0]?.split('/')[1] ?? ''}` : undefined,
    details: { wanted: formatPlatform(want), available: present },
  });
}

/** The host's architecture in OCI terms (`amd64`, `arm64`, …). */
export function hostArch(nodeArch: string = process.arch): string {
  return ociArch(nodeArch);
}

/** linux/<host arch>: what an image command pulls when nothing else is asked. */
export function defaultPlatform(): Platform {
  return { os: 'linux', architecture: hostArch() };
}

/** The same os, architecture and variant (both undefined counts as the same). */
export function samePlatform(a: Platform | undefined, b: Platform | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}
