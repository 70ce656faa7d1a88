/** The Kairos tag grammar, ordering and versioning policy: pure, no I/O. */
export * from './check.js';
export * from './tag.js';
export * from './order.js';
export * from './rules.js';
export * from './select.js';
export * from './os-release.js';
export * from './release-files.js';
export * from './image-flavor.js';
export * from './image-checks.js';
export * from './upgrade.js';
export * from './image-diff.js';
