/**
 * A compressed disk image → its raw bytes, as a stream. xz goes to the system `xz -dc` through
 * execa: no xz decoder is installed from npm here, and a separate process decodes on the second
 * core while this one hashes and writes (measured: see scripts/bench-artifacts.mjs and the issue-6
 * report). gzip and zstd reuse src/unpack's decoders (zlib on the threadpool; the `zstd` binary or
 * fzstd), so the choice made there by measurement holds here too.
 */
import type { Readable } from 'node:stream';
import { decoderProcess } from '../unpack/decoder-process.js';
import { KairosImgError } from '../errors.js';
import { layerToTarStream } from '../unpack/decompress.js';
import type { ImageCompression } from './checksum-file.js';

const CHUNK = 1024 * 1024;

function corrupt(label: string, what: string, cause: unknown): KairosImgError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new KairosImgError('ARTIFACT_IMAGE_CORRUPT', `${label}: ${what} failed: ${reason}`, {
    hint: 'the disk image inside the artifact is damaged; nothing was kept',
    cause,
  });
}

/** `xz -dc` in its own process (a truncated .xz is an error at the end of the stream). */
function xzStream(input: Readable, label: string, signal?: AbortSignal): Readable {
  return decoderProcess({
    command: 'xz', args: ['-d', '-c', '-q', '-T0'], input, signal, highWaterMark: CHUNK,
    failure: (e, stderr) => {
      if ((e as { code?: unknown }).code === 'ENOENT') {
        return new KairosImgError('XZ_NOT_FOUND', 'the `xz` program is needed to read .img.xz disk images and is not on PATH', {
          hint: 'install xz-utils (apt-get install xz-utils, apk add xz, dnf install xz)',
        });
      }
      return corrupt(label, 'xz decompression', stderr ?? e);
    },
  });
}

const MEDIA_TYPE_OF: Record<'gzip' | 'zstd', string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

/**
 * The raw image stream for `input` compressed as `compression` ('none' returns the input). The
 * compressed bytes' magic must agree with the name (checked by src/unpack for gzip and zstd, by xz).
 */
export async function decodeImage(opts: { input: Readable; compression: ImageCompression; label: string; signal?: AbortSignal | undefined }): Promise<Readable> {
  switch (opts.compression) {
    case 'none':
      return opts.input;
    case 'xz':
      return xzStream(opts.input, opts.label, opts.signal);
    case 'gzip':
    case 'zstd':
      try {
        return await layerToTarStream({ stream: opts.input, mediaType: MEDIA_TYPE_OF[opts.compression], label: opts.label, signal: opts.signal });
      } catch (e) {
        throw e instanceof KairosImgError ? e : corrupt(opts.label, `${opts.compression} decompression`, e);
      }
  }
}
