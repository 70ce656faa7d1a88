/** Reads and validates catalog files (flavors/<os>.yaml): the I/O edge of the catalog. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { KairosImgError } from '../errors.js';
import { validateCatalog } from './validate.js';
import type { Catalog } from './types.js';

/** The `flavors/` folder shipped with the package (dist/catalog → ../../flavors, src/catalog likewise). */
export function defaultFlavorsDir(): string {
  return fileURLToPath(new URL('../../flavors/', import.meta.url));
}

/** Parses and validates catalog text; `source` names the file in errors. */
export function parseCatalog(text: string, source: string): Catalog {
  let doc: unknown;
  try {
    doc = parseYaml(text, { merge: true, uniqueKeys: true });
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos?.[0] !== undefined ? ` (line ${e.linePos[0].line})` : '';
    throw new KairosImgError('CATALOG_INVALID', `${source}${where}: not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, { cause: e });
  }
  const { catalog, errors } = validateCatalog(doc, source);
  if (catalog === undefined) {
    const shown = errors.slice(0, 10).map((x) => `${source}: ${x}`);
    const more = errors.length > 10 ? `\n… and ${errors.length - 10} more` : '';
    throw new KairosImgError('CATALOG_INVALID', `invalid catalog ${source}:\n${shown.join('\n')}${more}`, {
      hint: 'fix the file named above; kairos-img validates catalogs when it loads them',
      details: { errors },
    });
  }
  return catalog;
}

const cache = new Map<string, Promise<Catalog>>();

/** Loads `<dir>/<os>.yaml` once per process. */
export function loadCatalog(os = 'kairos', dir = defaultFlavorsDir()): Promise<Catalog> {
  const file = path.join(dir, `${os}.yaml`);
  let p = cache.get(file);
  if (p === undefined) {
    p = readFile(file, 'utf8').then(
      (text) => parseCatalog(text, path.relative(process.cwd(), file) || file),
      (e: unknown) => {
        throw new KairosImgError('CATALOG_MISSING', `cannot read catalog ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
      },
    );
    cache.set(file, p);
  }
  return p;
}
