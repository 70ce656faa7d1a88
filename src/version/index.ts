/**
 * Versions, one module per kind, each with exactly one ascending comparator: Kairos versions
 * (`compareKairos`), Kubernetes distribution versions (`compareK8s`; `compareK3s` is it on k3s
 * versions), minors (`compareMinors`), flavor releases (`compareFlavorReleases`). Newest-first
 * orders are derived from them with `newestFirst`. Pure.
 */
export * from './kairos.js';
export * from './k8s.js';
export * from './k3s.js';
export * from './minor.js';
export * from './flavor-release.js';

/** The reverse of an ascending comparator: newest first. */
export function newestFirst<T>(ascending: (a: T, b: T) => number): (a: T, b: T) => number {
  return (a, b) => ascending(b, a);
}
