/** Public API of the content cache (an OCI image layout) and the daemonless pull into it. */
export { openStore, defaultCacheDir, REF_NAME, writeVerifiedFile } from './layout.js';
export type { Store, WriteBlobOptions } from './layout.js';
export { exportLayout } from './export.js';
export type { ExportLayoutOptions, ExportLayoutResult } from './export.js';
export { pullImage } from './pull.js';
export type { PullImageOptions, PullImageResult, PullEvent } from './pull.js';
export { toOciManifest } from './convert.js';
export { openLayoutDestination, openArchiveDestination } from './layout-destination.js';
export type { LayoutDestination } from './layout-destination.js';
