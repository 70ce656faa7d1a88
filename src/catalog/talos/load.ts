/** Reads and validates flavors/talos.yaml: the I/O edge of the Talos matrix (shared file helpers). */
import path from 'node:path';
import { defaultFlavorsDir, invalidCatalog, loadCatalogFile, parseYamlDocument } from '../yaml-file.js';
import { validateTalosMatrix } from './validate.js';
import type { TalosMatrix } from './types.js';

/** Parses and validates the matrix text; `source` names the file in errors. */
export function parseTalosMatrix(text: string, source: string): TalosMatrix {
  const { matrix, errors } = validateTalosMatrix(parseYamlDocument(text, source), source);
  if (matrix === undefined) throw invalidCatalog(source, errors);
  return matrix;
}

/** Loads `<dir>/talos.yaml` once per process. */
export function loadTalosMatrix(dir = defaultFlavorsDir()): Promise<TalosMatrix> {
  return loadCatalogFile(path.join(dir, 'talos.yaml'), parseTalosMatrix);
}
