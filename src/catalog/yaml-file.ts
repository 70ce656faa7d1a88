/** The I/O edge shared by every catalog file: read once per process, parse YAML, report problems by file. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KairosImgError } from '../errors.js';
import { yamlPackage } from '../lazy-packages.js';

/** Parses YAML text; a syntax error becomes CATALOG_INVALID naming the file and line. */
export function parseYamlDocument(text: string, source: string): unknown {
  const yaml = yamlPackage();
  try {
    return yaml.parse(text, { merge: true, uniqueKeys: true });
  } catch (e) {
    const where = e instanceof yaml.YAMLParseError && e.linePos?.[0] !== undefined ? ` (line ${e.linePos[0].line})` : '';
    throw new KairosImgError('CATALOG_INVALID', `${source}${where}: not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, { cause: e });
  }
}

/** CATALOG_INVALID listing the first problems, each prefixed with the file. */
export function invalidCatalog(source: string, errors: readonly string[]): KairosImgError {
  const shown = errors.slice(0, 10).map((x) => `${source}: ${x}`);
  const more = errors.length > 10 ? `\n… and ${errors.length - 10} more` : '';
  return new KairosImgError('CATALOG_INVALID', `invalid catalog ${source}:\n${shown.join('\n')}${more}`, {
    hint: 'fix the file named above; kairos-img validates catalogs when it loads them',
    details: { errors: [...errors] },
  });
}

/** The `flavors/` folder shipped with the package (dist/catalog → ../../flavors, src/catalog likewise). */
export function defaultFlavorsDir(): string {
  return fileURLToPath(new URL('../../flavors/', import.meta.url));
}

const cache = new Map<string, Promise<unknown>>();

/** Reads and parses `file` once per process (per parser); `parse` gets the path relative to the cwd for messages. */
export function loadCatalogFile<T>(file: string, parse: (text: string, source: string) => T): Promise<T> {
  let p = cache.get(file) as Promise<T> | undefined;
  if (p === undefined) {
    p = readFile(file, 'utf8').then(
      (text) => parse(text, path.relative(process.cwd(), file) || file),
      (e: unknown) => {
        throw new KairosImgError('CATALOG_MISSING', `cannot read catalog ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
      },
    );
    cache.set(file, p);
  }
  return p;
}
