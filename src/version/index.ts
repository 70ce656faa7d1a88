/**
 * Versions, one module per kind, each with exactly one ascending comparator: Kairos versions
 * (`compareKairos`), k3s versions (`compareK3s`), minors (`compareMinors`). Newest-first orders are
 * derived from them with `newestFirst`. Pure.
 */
export * from './kairos.js';
export * from './k3s.js';
export * from './minor.js';

/** The reverse of an ascending comparator: newest first. */
export function newestFirst<T>(ascending: (a: T, b: T) => number): (a: T, b: T) => number {
  return (a, b) => ascending(b, a);
}
