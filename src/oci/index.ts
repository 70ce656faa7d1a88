/** The OCI core: media types, descriptors, manifests and indexes, digests, platforms, the verifying stream. */
export {
  MediaType, MANIFEST_ACCEPT, kindOfMediaType, manifestMediaType, parseManifestDocument, isDescriptor,
} from './media-types.js';
export type { Descriptor, ImageManifest, ImageIndex, ManifestKind } from './media-types.js';
export { formatPlatform, ociArch, hostArch, defaultPlatform, platformMatches, samePlatform, selectPlatform } from './platform.js';
export type { Platform } from './platform.js';
export {
  DIGEST_ALGORITHMS, digestProblem, parseDigest, isDigest, hashFor, digestOf, sha256Hex, digestMismatch, sizeMismatch,
} from './digest.js';
export type { DigestAlgorithm, ParsedDigest } from './digest.js';
export { verifyingStream, verifyBytes } from './verify-stream.js';
export type { Digester, VerifyOptions } from './verify-stream.js';
