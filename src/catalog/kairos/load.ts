/** Reads and validates the Kairos catalog file (flavors/kairos.yaml): the I/O edge of the Kairos catalog. */
import path from 'node:path';
import { validateCatalog } from './validate.js';
import { defaultFlavorsDir, invalidCatalog, loadCatalogFile, parseYamlDocument } from '../yaml-file.js';
import type { Catalog } from './types.js';

/** Parses and validates catalog text; `source` names the file in errors. */
export function parseCatalog(text: string, source: string): Catalog {
  const doc = parseYamlDocument(text, source);
  const { catalog, errors } = validateCatalog(doc, source);
  if (catalog === undefined) throw invalidCatalog(source, errors);
  return catalog;
}

/** Loads `<dir>/<os>.yaml` once per process. */
export function loadCatalog(os = 'kairos', dir = defaultFlavorsDir()): Promise<Catalog> {
  return loadCatalogFile(path.join(dir, `${os}.yaml`), parseCatalog);
}
