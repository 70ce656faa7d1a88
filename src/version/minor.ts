/**
 * Minor versions (`1.10`): Talos and Kubernetes minors, Kairos release branches, k3s minors.
 * Loosely written versions (`v1.3`, `1.3.7`, `v1.10.0-beta.0`, `1.26.3+k3s1`) give their minor. Pure.
 * Hand-written: minors are compared as number pairs, and semver needs three parts (it would
 * reject `1.10`, and comparing `1.10` as text puts it before `1.9`).
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

/** The one order of minors, oldest first. Newest first is `(a, b) => compareMinors(b, a)`. */
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
