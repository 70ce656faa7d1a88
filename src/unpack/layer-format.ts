/**
 * Layer media types and magic bytes, pure. A registry says what a blob is; the first bytes say
 * what it really is. Both must agree, or the layer is refused with an error naming the two.
 */
import { KairosImgError } from '../errors.js';

export type Compression = 'gzip' | 'zstd' | 'none';
export type DetectedFormat = Compression | 'xz' | 'bzip2' | 'unknown';

const LAYER_MEDIA_TYPES: Record<string, Compression> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.diff.tar.zstd': 'zstd',
};

export function isLayerMediaType(mediaType: string): boolean {
  return mediaType in LAYER_MEDIA_TYPES;
}

/** The compression a media type promises; throws a usage-independent operational error for others. */
export function compressionOfMediaType(mediaType: string): Compression {
  const c = LAYER_MEDIA_TYPES[mediaType];
  if (c === undefined) {
    throw new KairosImgError('UNPACK_MEDIA_TYPE_UNSUPPORTED', `unsupported layer media type "${mediaType}"`, {
      hint: 'supported: OCI image layers (tar, tar+gzip, tar+zstd, nondistributable variants) and Docker rootfs.diff.tar(.gzip)',
      details: { mediaType },
    });
  }
  return c;
}

/** Bytes needed by detectFormat. */
export const MAGIC_LENGTH = 6;

export function detectFormat(head: Uint8Array): DetectedFormat {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head.length >= 6 && head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) {
    return 'xz';
  }
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  // A tar stream has no magic at offset 0 (ustar's is at 257, and an empty layer is all zeros):
  // anything that is not a known compressed format is handed to the tar reader, which checks headers.
  return 'none';
}

/** Checks the detected format against the expected one; returns the compression to undo. */
export function checkFormat(expected: Compression | 'auto', detected: DetectedFormat, label: string): Compression {
  if (detected === 'xz' || detected === 'bzip2' || detected === 'unknown') {
    throw formatMismatch(label, expected, detected);
  }
  if (expected !== 'auto' && expected !== detected) throw formatMismatch(label, expected, detected);
  return detected;
}

function formatMismatch(label: string, expected: Compression | 'auto', detected: DetectedFormat): KairosImgError {
  const want = expected === 'auto' ? 'a tar stream (plain, gzip or zstd)' : expected === 'none' ? 'an uncompressed tar' : expected;
  const got = detected === 'none' ? 'an uncompressed tar' : detected;
  return new KairosImgError('UNPACK_LAYER_FORMAT_MISMATCH', `${label}: expected ${want} but its content is ${got}`, {
    hint: 'the image manifest declares a media type that does not match the blob; the image is malformed or the blob was replaced',
    details: { expected, detected },
  });
}
