/**
 * Collects validation problems of a parsed YAML document, each with the key path where it is
 * (`flavors.ubuntu.arches[1]: unknown value "x86"`). Shared by every catalog file's validator. Pure.
 */

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** How a value reads in a message: `null`, `a list`, `a mapping`, `number 1.1`. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}

export class Collector {
  readonly errors: string[] = [];
  add(path: string, problem: string): void {
    this.errors.push(`${path}: ${problem}`);
  }
  str(o: Obj, key: string, path: string, opts: { optional?: boolean; pattern?: RegExp } = {}): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (opts.optional !== true) this.add(`${path}.${key}`, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.add(`${path}.${key}`, `must be a string, got ${describe(v)}`);
      return undefined;
    }
    const s = String(v);
    if (opts.pattern !== undefined && !opts.pattern.test(s)) {
      this.add(`${path}.${key}`, `"${s}" does not match ${opts.pattern.source}`);
      return undefined;
    }
    return s;
  }
  strList(o: Obj, key: string, path: string, allowed?: readonly string[]): string[] | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0) {
      this.add(`${path}.${key}`, 'must be a non-empty list');
      return undefined;
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item !== 'string') this.add(`${path}.${key}[${i}]`, `must be a string, got ${describe(item)}`);
      else if (allowed !== undefined && !allowed.includes(item)) {
        this.add(`${path}.${key}[${i}]`, `unknown value "${item}"; expected one of ${allowed.join(', ')}`);
      } else out.push(item);
    });
    return out;
  }
  list(o: Obj, key: string, path: string): unknown[] {
    const v = o[key];
    if (!Array.isArray(v)) {
      this.add(`${path}.${key}`, v === undefined ? 'is required' : `must be a list, got ${describe(v)}`);
      return [];
    }
    return v;
  }
  obj(o: Obj, key: string, path: string): Obj | undefined {
    const v = o[key];
    if (!isObj(v)) {
      this.add(`${path}.${key}`, v === undefined ? 'is required' : `must be a mapping, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }
  unknownKeys(o: Obj, known: readonly string[], path: string): void {
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) this.add(`${path}.${k}`, `unknown key; expected one of ${known.join(', ')}`);
    }
  }
}
