/** Check results for a person, one line each: a mark, the check's id, its message. */
import type { Check } from '../../policy/check.js';
import type { Style } from '../render.js';

/** ✓ passed, ✗ failed, − skipped, i information. */
export function checkMark(c: Check, style: Style): string {
  if (c.info === true) return style.dim('i');
  if (c.ok === 'skipped') return style.dim('−');
  return c.ok ? style.ok('✓') : style.bad('✗');
}

/** `✓ kubernetes  Kubernetes 1.24 is within 1.24–1.26`, ids padded to the longest. */
export function checkLines(checks: readonly Check[], style: Style): string[] {
  const width = Math.max(...checks.map((c) => c.id.length));
  return checks.map((c) => `${checkMark(c, style)} ${c.id.padEnd(width)}  ${c.message}`);
}
