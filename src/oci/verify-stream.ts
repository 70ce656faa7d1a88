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

/**
 * A digest computed elsewhere (src/store/file-hasher.ts: a worker thread) from exactly the chunks
 * this stream passes on, in order — so a multi-GB read is hashed on another core.
 */
export interface Digester {
  /** Takes a chunk; a returned promise means "wait": the chunk is not all taken until it settles. */
  update(chunk: Buffer): void | Promise<void>;
  /** After the last chunk: `algorithm:hex` of everything taken. */
  digest(): Promise<string>;
  /** The stream ended early: release what the digester holds. */
  abort(): void;
}

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
  /** Hashes off this thread instead (`hash`, `offset` and `hasher` are then not used). */
  digester?: Digester | undefined;
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
  const digester = opts.digester;
  const hash = opts.hash === false || digester !== undefined ? undefined : (opts.hasher ?? hashFor(desc.digest));
  let n = digester !== undefined ? 0 : (opts.offset ?? 0);
  let done = false;
  const fail = (e: KairosImgError): Error => opts.onMismatch?.(e) ?? e;
  return new Transform({
    // Large chunks pass through as they are; no re-buffering on multi-GB paths.
    highWaterMark: opts.highWaterMark ?? 1024 * 1024,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      n += chunk.length;
      if (n > desc.size) return cb(fail(sizeMismatch(what, desc.size, `more than ${desc.size}`)));
      const pass = (): void => {
        opts.onProgress?.(n);
        cb(null, chunk);
      };
      const waiting = digester?.update(chunk);
      if (waiting !== undefined) {
        // Passed on only once the digester holds all of it: what is verified is what went through.
        waiting.then(pass, (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))));
        return;
      }
      hash?.update(chunk);
      pass();
    },
    flush(cb: TransformCallback) {
      if (n !== desc.size) return cb(fail(sizeMismatch(what, desc.size, String(n))));
      if (digester !== undefined) {
        digester.digest().then((actual) => {
          done = true;
          if (actual !== desc.digest) return cb(fail(digestMismatch(what, desc.digest, actual)));
          opts.onVerified?.();
          cb();
        }, (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))));
        return;
      }
      if (hash !== undefined) {
        const actual = `${desc.digest.slice(0, desc.digest.indexOf(':'))}:${hash.digest('hex')}`;
        if (actual !== desc.digest) return cb(fail(digestMismatch(what, desc.digest, actual)));
      }
      opts.onVerified?.();
      cb();
    },
    destroy(err, cb) {
      if (!done) digester?.abort();
      cb(err);
    },
  });
}

/** Checks bytes already in memory against a descriptor (manifests, configs). */
export function verifyBytes(desc: Pick<Descriptor, 'digest' | 'size'>, bytes: Buffer, what = `blob ${desc.digest}`): void {
  if (bytes.length !== desc.size) throw sizeMismatch(what, desc.size, String(bytes.length));
  const actual = `${desc.digest.slice(0, desc.digest.indexOf(':'))}:${hashFor(desc.digest).update(bytes).digest('hex')}`;
  if (actual !== desc.digest) throw digestMismatch(what, desc.digest, actual);
}
