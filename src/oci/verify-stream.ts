/**
 * The one verify-while-reading stream (go-containerregistry's `verify.ReadCloser`): counts and
 * hashes what passes through and fails *before its end* when the content is longer, shorter or
 * other than its descriptor says, so a consumer never sees a clean end of unverified data.
 * Registry blobs, cache reads and archive members all pass through it.
 */
import type { Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { KairosImgError } from '../errors.js';
import { digestMismatch, hashFor, sizeMismatch } from './digest.js';
import type { Descriptor } from './media-types.js';

export interface VerifyOptions {
  /** Names the content in errors (default `blob <digest>`). */
  what?: string | undefined;
  /**
   * false: count bytes only — for a source that verified its digest already (the registry
   * client's blobs), where hashing twice would be wasted CPU on multi-GB layers.
   */
  hash?: boolean | undefined;
  /** Bytes already seen (and fed to `hasher`) before this stream starts: a resumed transfer. */
  offset?: number | undefined;
  hasher?: Hash | undefined;
  /** Called after each chunk with the bytes verified so far (including `offset`). */
  onProgress?: ((bytes: number) => void) | undefined;
  /** Restates a mismatch for the caller's context (a cache entry found corrupt, …); may clean up. */
  onMismatch?: ((error: KairosImgError) => Error) | undefined;
  /** Called once the content matched, just before the stream ends. */
  onVerified?: (() => void) | undefined;
  /** Bytes buffered on each side (default 1 MiB); less keeps concurrent downloads' memory down. */
  highWaterMark?: number | undefined;
}

export function verifyingStream(desc: Pick<Descriptor, 'digest' | 'size'>, opts: VerifyOptions = {}): Transform {
  const what = opts.what ?? `blob ${desc.digest}`;
  const hash = opts.hash === false ? undefined : (opts.hasher ?? hashFor(desc.digest));
  let n = opts.offset ?? 0;
  const fail = (e: KairosImgError): Error => opts.onMismatch?.(e) ?? e;
  return new Transform({
    // Large chunks pass through as they are; no re-buffering on multi-GB paths.
    highWaterMark: opts.highWaterMark ?? 1024 * 1024,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      n += chunk.length;
      if (n > desc.size) return cb(fail(sizeMismatch(what, desc.size, `more than ${desc.size}`)));
      hash?.update(chunk);
      opts.onProgress?.(n);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (n !== desc.size) return cb(fail(sizeMismatch(what, desc.size, String(n))));
      if (hash !== undefined) {
        const actual = `${desc.digest.slice(0, desc.digest.indexOf(':'))}:${hash.digest('hex')}`;
        if (actual !== desc.digest) return cb(fail(digestMismatch(what, desc.digest, actual)));
      }
      opts.onVerified?.();
      cb();
    },
  });
}

/** Checks bytes already in memory against a descriptor (manifests, configs). */
export function verifyBytes(desc: Pick<Descriptor, 'digest' | 'size'>, bytes: Buffer, what = `blob ${desc.digest}`): void {
  if (bytes.length !== desc.size) throw sizeMismatch(what, desc.size, String(bytes.length));
  const actual = `${desc.digest.slice(0, desc.digest.indexOf(':'))}:${hashFor(desc.digest).update(bytes).digest('hex')}`;
  if (actual !== desc.digest) throw digestMismatch(what, desc.digest, actual);
}
