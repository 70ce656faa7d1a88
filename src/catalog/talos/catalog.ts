/**
 * Talos as an `OsCatalog`: `talos <image>` names one of its images on ghcr.io (flavors/talos.yaml);
 * resolution and listings are Talos' own, and Kairos verdicts do not apply to its tags.
 */
import type { OsCatalog } from '../os.js';
import { findImage, talosRepository } from './images.js';
import { loadTalosMatrix } from './load.js';
import { resolveTalos } from './resolve.js';

export const talosCatalog: OsCatalog = {
  name: 'talos',
  positional: { word: 'talos', missing: (word) => `name the ${word} image after "${word}", e.g. ${word} installer` },
  kairosVerdicts: false,
  registries: async () => [(await loadTalosMatrix()).images.registry],
  resolve: async (req) => resolveTalos(await loadTalosMatrix(), { ...req, image: req.variant }),
  tagRepositories: async (image) => {
    const matrix = await loadTalosMatrix();
    return [{ repository: talosRepository(matrix, findImage(matrix, image.variant), image.registry) }];
  },
};
