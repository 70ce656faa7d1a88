/** Disk-image artifacts: their files, checksum files and tags; the verifying sink they land in. */
export { extractViaLuet } from './extract-tree.js';
export type { ExtractViaLuetOptions, ExtractViaLuetResult } from './extract-tree.js';
export { createArtifactSink } from './artifact-sink.js';
export type { ArtifactFile, ArtifactSink, ArtifactSinkOptions, ChecksumStatus, FileRole } from './artifact-sink.js';
export { extractArtifactLayer } from './extract-layer.js';
export { classifyEntry, entryTypeOf } from './artifact-entries.js';
export { parseChecksumFile, expectedDigestFor, uncompressedName, isDiskImageName, isChecksumFileName, imageCompressionOf } from './checksum-file.js';
export type { ChecksumLine, Expectation, ImageCompression } from './checksum-file.js';
export { artifactTags, isArtifactRepository } from './artifact-tags.js';
export { decodeImage } from './image-decoder.js';
