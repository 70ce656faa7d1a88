/** Looking up what a user names (a Talos version, a platform) in the matrix; usage errors list the choices and the nearest. Pure. */
import { usageError, type KairosImgError, type UsageCode } from '../../errors.js';
import { nearestName } from '../names.js';
import { findPlatform, platformKey } from './platforms.js';
import { minorOf, minorText } from '../../version/minor.js';
import type { TalosMatrix, TalosRelease } from './types.js';

function unknown(code: UsageCode, what: string, input: string, names: readonly string[], near: string | undefined): KairosImgError {
  return usageError(code, `unknown ${what} "${input}"${near === undefined ? '' : `; did you mean ${near}?`}`, `known ${what}s: ${names.join(', ')}`);
}

/** The release of a Talos version written `1.3`, `v1.3` or `v1.3.7`. */
export function findRelease(matrix: TalosMatrix, input: string): TalosRelease {
  const minor = minorText(input);
  const names = matrix.versions.map((v) => v.version);
  const found = minor === undefined ? undefined : matrix.versions.find((v) => v.version === minor);
  if (found !== undefined) return found;
  if (minor === undefined) {
    throw usageError('BAD_VERSION', `"${input}" is not a Talos version`, `Talos versions look like 1.3 or v1.3.7; the matrix knows ${names.join(', ')}`);
  }
  throw unknown('UNKNOWN_TALOS_VERSION', 'Talos version', input, names, nearestMinor(minor, names));
}

/** The known minor numerically closest (1.14 → 1.13, 1.1 → 1.2); on a tie, the newer. */
function nearestMinor(minor: string, names: readonly string[]): string | undefined {
  const target = minorOf(minor);
  if (target === undefined) return undefined;
  const distance = (n: string): number => {
    const m = minorOf(n);
    return m === undefined ? Infinity : Math.abs((m.major - target.major) * 1000 + (m.minor - target.minor));
  };
  return [...names].reverse().reduce<string | undefined>((best, n) => (best === undefined || distance(n) < distance(best) ? n : best), undefined);
}

/** Every release named, in the order given (`--version 1.3 --version 1.2,1.4`), duplicates dropped. */
export function findReleases(matrix: TalosMatrix, inputs: readonly string[]): TalosRelease[] {
  const out: TalosRelease[] = [];
  for (const text of inputs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')) {
    const r = findRelease(matrix, text);
    if (!out.includes(r)) out.push(r);
  }
  return out;
}

/** The canonical name of a platform the user wrote (case-insensitive, aliases), or a usage error. */
export function requirePlatform(matrix: TalosMatrix, input: string): string {
  const found = findPlatform(matrix, input);
  if (found !== undefined) return found;
  const candidates = matrix.platforms.flatMap((p) => [p.name, ...p.aliases].map((n) => ({ key: platformKey(n), name: p.name })));
  const near = nearestName(platformKey(input), candidates.map((c) => c.key));
  const nearName = near === undefined ? undefined : candidates.find((c) => c.key === near)?.name;
  throw unknown('UNKNOWN_PLATFORM', 'platform', input, matrix.platforms.map((p) => p.name), nearName);
}
