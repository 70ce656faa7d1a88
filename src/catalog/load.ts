/** Reads and validates catalog files (flavors/<os>.yaml): the I/O edge of the catalog. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { validateCatalog } from './validate.js';
import { invalidCatalog, loadCatalogFile, parseYamlDocument } from './yaml-file.js';
import type { Catalog } from './types.js';

/** The `flavors/` folder shipped with the package (dist/catalog → ../../flavors, src/catalog likewise). */
export function defaultFlavorsDir(): string {
  return fileURLToPath(new URL('../../flavors/', import.meta.url));
}

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
