/**
 * Talos and Kubernetes version arithmetic at the granularity the matrix uses: minors (`1.10`),
 * releases (`v1.3.7`) and calendar dates (`2023-03-15`). Pure. Minors are compared as number pairs;
 * semver needs three parts and would order `1.10` by string elsewhere.
 */

export interface Minor {
  major: number;
  minor: number;
}

const MINOR = /^(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
/** `1.3`, `v1.3`, `1.3.7`, `v1.3.7`, `v1.10.0-beta.0`, `1.26.3+k3s1`. */
const LOOSE = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:[-+][0-9A-Za-z.+-]*)?)?$/;

export function isMinor(s: string): boolean {
  return MINOR.test(s);
}

/** The minor of a loosely written version, or undefined when it is not one. */
export function minorOf(input: string): Minor | undefined {
  const m = LOOSE.exec(input.trim());
  if (m === null) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function formatMinor(m: Minor): string {
  return `${m.major}.${m.minor}`;
}

/** The `major.minor` text of a loosely written version, or undefined. */
export function minorText(input: string): string | undefined {
  const m = minorOf(input);
  return m === undefined ? undefined : formatMinor(m);
}

export function compareMinors(a: string | Minor, b: string | Minor): number {
  const pa = typeof a === 'string' ? mustMinor(a) : a;
  const pb = typeof b === 'string' ? mustMinor(b) : b;
  return pa.major - pb.major || pa.minor - pb.minor;
}

function mustMinor(s: string): Minor {
  const m = minorOf(s);
  if (m === undefined) throw new TypeError(`not a version: ${s}`);
  return m;
}

/** Every minor from `min` to `max` inclusive, same major (Kubernetes 1.x). */
export function minorsBetween(min: string, max: string): string[] {
  const a = mustMinor(min);
  const b = mustMinor(max);
  const out: string[] = [];
  if (a.major !== b.major) return [min, max];
  for (let m = a.minor; m <= b.minor; m++) out.push(`${a.major}.${m}`);
  return out;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date written `YYYY-MM-DD`. */
export function isIsoDate(s: string): boolean {
  const m = DATE.exec(s);
  if (m === null) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** ISO dates order as strings. */
export function compareDates(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Today's date in UTC, `YYYY-MM-DD` (the caller's clock: pure code takes the date as input). */
export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}
