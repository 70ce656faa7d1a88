/**
 * Talos images on their registry (`ghcr.io/siderolabs/<image>:<version>`): which image, published
 * for which versions, and the newest release in a tag list. Pure; the registry and the names are
 * data in flavors/talos.yaml, and `--registry` replaces the registry host as it does quay.io's.
 */
import { usageError } from '../../errors.js';
import { parseReference, rewriteRegistry, type Reference } from '../../reference/reference.js';
import { nearestName, normalizeArch } from '../names.js';
import type { ResolvedImage } from '../os.js';
import { compareKairos, isKairosRelease, normalizeKairos } from '../../version/kairos.js';
import { compareMinors, formatMinor, isMinor, minorOf } from '../../version/minor.js';
import type { TalosImage, TalosMatrix } from './types.js';

export interface TalosImageRequest {
  image: string;
  /** A release (`v1.3.7`, `1.3.7`). */
  version: string;
  arch?: string | undefined;
  /** Replaces the matrix's registry (mirrors, the local registry). */
  registry?: string | undefined;
  hostArch?: string | undefined;
}

export function findImage(matrix: TalosMatrix, name: string): TalosImage {
  const img = matrix.images.list.find((i) => i.name === name);
  if (img !== undefined) return img;
  const names = matrix.images.list.map((i) => i.name);
  const near = nearestName(name, names);
  throw usageError('UNKNOWN_TALOS_IMAGE', `unknown Talos image "${name}"${near === undefined ? '' : `; did you mean ${near}?`}`, `Talos images: ${names.join(', ')}`);
}

/** `1.3.7` → `v1.3.7`; a release is what a tag names, so a bare minor is not one. */
export function normalizeTalosRelease(input: string): string {
  const v = normalizeKairos(input);
  if (v === undefined) {
    throw usageError('BAD_VERSION', `"${input}" is not a Talos release`, isMinor(input.replace(/^v/, '')) ? `name a patch release such as v${input.replace(/^v/, '')}.0, or leave --version out to use the newest` : 'Talos releases look like v1.3.7');
  }
  return v;
}

function describePublished(img: TalosImage): string {
  if (img.from !== undefined && img.until !== undefined) return `from ${img.from} up to (not including) ${img.until}`;
  if (img.from !== undefined) return `from ${img.from}`;
  if (img.until !== undefined) return `before ${img.until}`;
  return 'for every release';
}

export function isPublished(img: TalosImage, version: string): boolean {
  const m = minorOf(version);
  if (m === undefined) return false;
  const minor = formatMinor(m);
  return (img.from === undefined || compareMinors(minor, img.from) >= 0) && (img.until === undefined || compareMinors(minor, img.until) < 0);
}

/** The repository of an image on the matrix's registry, or on `registry` when given. */
export function talosRepository(matrix: TalosMatrix, img: TalosImage, registry?: string): Reference {
  return rewriteRegistry(parseReference(`${matrix.images.registry}/${matrix.images.namespace}/${img.name}`), matrix.images.registry, registry);
}

/** The image reference, shaped like a Kairos resolution (flavor `talos`, variant the image) so every image command takes it. */
export function resolveTalosImage(matrix: TalosMatrix, req: TalosImageRequest): ResolvedImage {
  const img = findImage(matrix, req.image);
  const version = normalizeTalosRelease(req.version);
  if (!isPublished(img, version)) {
    throw usageError('IMAGE_NOT_PUBLISHED', `${matrix.images.registry}/${matrix.images.namespace}/${img.name} has no ${version}: it is published ${describePublished(img)}`,
      `pick a version ${describePublished(img)}, or another image (${matrix.images.list.filter((i) => isPublished(i, version)).map((i) => i.name).join(', ')})`);
  }
  const minor = formatMinor(minorOf(version) ?? { major: 0, minor: 0 });
  const arches = matrix.versions.find((r) => r.version === minor)?.arches ?? ['amd64', 'arm64'];
  let arch: string;
  if (req.arch !== undefined) {
    arch = normalizeArch(req.arch);
    if (!arches.includes(arch)) throw usageError('UNSUPPORTED_ARCH', `Talos ${minor} is not published for ${req.arch}`, `its arches: ${arches.join(', ')}`);
  } else {
    const host = req.hostArch === undefined ? undefined : normalizeArch(req.hostArch);
    arch = host !== undefined && arches.includes(host) ? host : (arches[0] ?? 'amd64');
  }
  const repo = talosRepository(matrix, img, req.registry);
  const reference: Reference = { ...repo, tag: version };
  return { reference, image: reference, kind: 'image', era: 'talos', flavor: 'talos', variant: img.name, version, arch, model: '' };
}

/**
 * The newest release tag (`vX.Y.Z`, no pre-release) of an image in a tag list, optionally within
 * one minor; only versions the image is published for count.
 */
export function newestTalosRelease(matrix: TalosMatrix, image: string, tags: readonly string[], opts: { minor?: string | undefined } = {}): string | undefined {
  const img = findImage(matrix, image);
  const releases = tags.filter((t) => isKairosRelease(t) && isPublished(img, t))
    .filter((t) => opts.minor === undefined || formatMinor(minorOf(t) ?? { major: -1, minor: -1 }) === opts.minor);
  releases.sort((a, b) => compareKairos(b, a));
  return releases[0];
}
