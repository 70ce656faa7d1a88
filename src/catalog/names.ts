/**
 * What users type, shared by every OS catalog: the nearest known name for a typo ("did you mean
 * …?", by fastest-levenshtein's edit distance) and architecture aliases. Pure.
 */
import { closest, distance } from 'fastest-levenshtein';

/** "did you mean …?" for a name among candidates, when one is close enough to be a typo or a prefix. */
export function nearestName(input: string, names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  const extending = names.filter((n) => n.startsWith(input));
  if (extending.length === 1) return extending[0];
  const prefixed = names.filter((n) => input.startsWith(n));
  const best = closest(input, [...names]);
  return distance(input, best) <= Math.max(2, Math.floor(best.length / 3)) ? best : prefixed[0];
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', x64: 'amd64', aarch64: 'arm64', armv8: 'arm64' };

/** `x86_64` → `amd64`, `aarch64` → `arm64`; OCI names stay as they are. */
export function normalizeArch(arch: string): string {
  return ARCH_ALIASES[arch] ?? arch;
}
