/**
 * `talos <image> [--version v1.3.7]` → one reference, the Talos counterpart of the Kairos
 * resolution: offline with a full release, otherwise the newest release (of a minor, when
 * `--version 1.3`) from the repository's tags. The registry is reached only through `tags`.
 */
import { KairosImgError, usageError } from '../../errors.js';
import { formatReference } from '../../reference/reference.js';
import type { CatalogRequest, Resolution } from '../os.js';
import { findImage, newestTalosRelease, resolveTalosImage, talosRepository } from './images.js';
import { isMinor } from '../../version/minor.js';
import type { TalosMatrix } from './types.js';

/**
 * `version`: `v1.3.7` (offline), `1.3` (the newest 1.3.x on the registry), or none (the newest).
 * The Kairos-only options (`k3s`, `model`, an artifact) are refused with a usage error.
 */
export interface TalosResolveOptions extends Omit<CatalogRequest, 'flavor' | 'variant'> {
  image: string;
}

export async function resolveTalos(matrix: TalosMatrix, opts: TalosResolveOptions): Promise<Resolution> {
  if (opts.k3s !== undefined) throw usageError('UNEXPECTED_K3S', '--k3s applies to Kairos standard images, not to Talos images', 'drop --k3s');
  if (opts.model !== undefined) throw usageError('UNEXPECTED_MODEL', '--model applies to Kairos images, not to Talos images', 'drop --model');
  if (opts.kind === 'artifact') throw usageError('NO_ARTIFACT', 'Talos images have no disk-image artifact', 'drop --artifact; the imager image builds Talos boot media');
  const base = { image: opts.image, arch: opts.arch, registry: opts.registry, hostArch: opts.hostArch };
  const img = findImage(matrix, opts.image);
  const minor = opts.version === undefined ? undefined : opts.version.replace(/^v/, '');
  if (opts.version !== undefined && (minor === undefined || !isMinor(minor))) {
    return { ...resolveTalosImage(matrix, { ...base, version: opts.version }), discovered: false };
  }
  if (opts.tags === undefined) {
    throw usageError('MISSING_INPUT', '--version is needed to name the Talos image offline', `give a release such as --version v1.3.7, or let kairos-img ask the registry`);
  }
  const repository = talosRepository(matrix, img, opts.registry);
  const tags = await opts.tags.listTags(repository, opts.signal);
  const found = tags === undefined ? undefined : newestTalosRelease(matrix, img.name, tags, { minor });
  if (found === undefined) {
    const what = `${img.name}${minor === undefined ? '' : ` ${minor}.x`}`;
    throw new KairosImgError('NO_RELEASE_FOUND', `no release of the Talos ${what} image found in ${formatReference(repository)}`, {
      hint: tags === undefined ? 'that repository does not exist on this registry; check --registry' : 'name a release with --version (e.g. v1.3.7)',
      details: { repository: formatReference(repository) },
    });
  }
  return { ...resolveTalosImage(matrix, { ...base, version: found }), discovered: true };
}
