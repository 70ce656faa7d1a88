/**
 * The two streams ORAS content needs besides the verifying stream (which checks content whose
 * size and digest a descriptor gives): one that computes the digest of content being made (a
 * packed directory's tar and gzip, a file read for its descriptor), and one that checks content
 * whose digest is known but whose size is not (`io.deis.oras.content.digest` of an uncompressed
 * tar) — failing before its end, as the verifying stream does, so nothing downstream commits it.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { digestMismatch, hashFor, type DigestAlgorithm } from './digest.js';

export interface DigestingStream extends Transform {
  /** The digest and size of everything that passed (valid once the stream ended). */
  result(): { digest: string; size: number };
}

export function digestingStream(algorithm: DigestAlgorithm = 'sha256', onBytes?: (n: number) => void): DigestingStream {
  const hash = createHash(algorithm);
  let size = 0;
  let digest: string | undefined;
  const t = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      hash.update(chunk);
      size += chunk.length;
      onBytes?.(size);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      digest = `${algorithm}:${hash.digest('hex')}`;
      cb();
    },
  });
  return Object.assign(t, {
    result() {
      if (digest === undefined) throw new Error('digestingStream: result() before the stream ended');
      return { digest, size };
    },
  });
}

/** Passes content through and fails before its end unless it hashes to `digest`. */
export function digestCheckStream(digest: string, what: string): Transform {
  const hash = hashFor(digest);
  return new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      const actual = `${digest.slice(0, digest.indexOf(':'))}:${hash.digest('hex')}`;
      cb(actual === digest ? null : digestMismatch(what, digest, actual));
    },
  });
}
