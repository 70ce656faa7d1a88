/** The Kairos tag grammar, ordering and versioning policy: pure, no I/O. */
export * from './tag.js';
export * from './order.js';
export * from './rules.js';
export * from './select.js';
