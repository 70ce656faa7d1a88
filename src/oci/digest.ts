/**
 * The one digest grammar of the tool (image-spec descriptor.md "Digests"): references, registry
 * answers, the cache's blob paths and cosign tags all parse digests here. Pure.
 *
 *   digest    := algorithm ":" encoded
 *   algorithm := [a-z0-9]+ ([+._-] [a-z0-9]+)*
 *   encoded   := [a-zA-Z0-9=_-]+      (sha256: 64 lowercase hex, sha512: 128)
 */
import { createHash, type Hash } from 'node:crypto';
import { KairosImgError } from '../errors.js';

/** The algorithms kairos-img can verify, with the length of their hex encoding. */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

const ALGORITHM = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/;
const ENCODED = /^[a-zA-Z0-9=_-]{32,}$/;

function isSupported(alg: string): alg is DigestAlgorithm {
  return Object.prototype.hasOwnProperty.call(DIGEST_ALGORITHMS, alg);
}

/**
 * What is wrong with a digest's grammar, or undefined when it is well-formed. An algorithm
 * kairos-img cannot verify but the grammar allows is well-formed here (a reference may name it);
 * `parseDigest` refuses it.
 */
export function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  if (colon <= 0) return `digest "${digest}" must be <algorithm>:<hex>`;
  const alg = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (!ALGORITHM.test(alg)) return `digest algorithm "${alg}" is not valid`;
  if (!isSupported(alg)) return ENCODED.test(hex) ? undefined : `digest "${digest}" has an invalid encoded part`;
  const want = DIGEST_ALGORITHMS[alg];
  if (hex.length !== want || !/^[a-f0-9]+$/.test(hex)) return `${alg} digest must be ${want} lowercase hex characters, got ${hex.length}`;
  return undefined;
}

/**
 * A digest kairos-img can verify, split. Digests reach this from registries, manifests and the
 * cache — data, not the user's input — so a bad one is an operational failure (exit 1).
 */
export function parseDigest(digest: string): ParsedDigest {
  const problem = digestProblem(digest);
  if (problem !== undefined) {
    throw new KairosImgError('BAD_DIGEST', `${problem}`, {
      hint: 'the manifest or the registry names a malformed digest; the image cannot be verified',
      details: { digest: digest.slice(0, 200) },
    });
  }
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  if (!isSupported(algorithm)) {
    throw new KairosImgError('UNSUPPORTED_DIGEST', `digest algorithm "${algorithm}" is not supported`, {
      hint: `kairos-img verifies ${Object.keys(DIGEST_ALGORITHMS).join(' and ')} digests`,
      details: { digest: digest.slice(0, 200) },
    });
  }
  return { algorithm, hex: digest.slice(colon + 1) };
}

export function isDigest(text: string): boolean {
  return digestProblem(text) === undefined && isSupported(text.slice(0, text.indexOf(':')));
}

/** A running hash for the algorithm of `digest`. */
export function hashFor(digest: string): Hash {
  return createHash(parseDigest(digest).algorithm);
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** The hex part of a sha256 digest, as cosign tags and docker-archive file names use it. */
export function sha256Hex(digest: string): string {
  const d = parseDigest(digest);
  if (d.algorithm !== 'sha256') {
    throw new KairosImgError('UNSUPPORTED_DIGEST', `${digest} is not a sha256 digest`, { details: { digest: digest.slice(0, 200) } });
  }
  return d.hex;
}

export function digestMismatch(what: string, expected: string, actual: string): KairosImgError {
  return new KairosImgError('DIGEST_MISMATCH', `${what} does not match its digest: expected ${expected}, got ${actual}`, {
    hint: 'the content was corrupted or replaced (by the registry, something in between, or on disk); nothing from it was kept',
    details: { expected, actual },
  });
}

export function sizeMismatch(what: string, expected: number, got: string): KairosImgError {
  return new KairosImgError('SIZE_MISMATCH', `${what} is ${got} bytes; its descriptor says ${expected}`, {
    hint: 'the content was corrupted or replaced (by the registry, something in between, or on disk); nothing from it was kept',
    details: { expectedSize: expected },
  });
}
