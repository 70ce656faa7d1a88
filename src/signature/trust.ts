/**
 * The trusted material keyless verification is anchored in: a `trusted_root.json` (Sigstore's
 * format: CA chains, transparency-log keys, CT-log keys, timestamp authorities). The package ships
 * the Sigstore public-good root (`trust/trusted_root.json`, rebuilt by
 * `scripts/refresh-trusted-root.mjs` from the TUF-verified copy embedded in `@sigstore/tuf`), so
 * verification works offline; `--trusted-root FILE` replaces it for a private PKI.
 * Parsing is `@sigstore/protobuf-specs`; this file only reads the file and names problems.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { KairosImgError } from '../errors.js';

export type { TrustedRoot } from '@sigstore/protobuf-specs';

/** The public-good trusted root shipped with the package (dist/signature → ../../trust). */
export function defaultTrustedRootPath(): string {
  return fileURLToPath(new URL('../../trust/trusted_root.json', import.meta.url));
}

const MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\.v\d+\.\d+)?\+json/;

/** A trusted root from its JSON text; `source` names the file in errors. */
export function parseTrustedRoot(text: string, source: string): TrustedRoot {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw badRoot(source, 'not JSON');
  }
  if (typeof doc !== 'object' || doc === null || typeof (doc as { mediaType?: unknown }).mediaType !== 'string' || !MEDIA_TYPE.test((doc as { mediaType: string }).mediaType)) {
    throw badRoot(source, 'no trusted-root mediaType (application/vnd.dev.sigstore.trustedroot+json)');
  }
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(doc);
  } catch (e) {
    throw badRoot(source, (e as Error).message);
  }
  if (root.certificateAuthorities.length === 0 && root.tlogs.length === 0) throw badRoot(source, 'it names no certificate authority and no transparency log');
  return root;
}

function badRoot(source: string, problem: string): KairosImgError {
  return new KairosImgError('BAD_TRUSTED_ROOT', `${source} is not a Sigstore trusted root: ${problem}`, {
    hint: 'pass a trusted_root.json (as `cosign trusted-root create` or the Sigstore TUF repository writes it)',
  });
}

const loaded = new Map<string, Promise<TrustedRoot>>();

/** Reads a trusted root (default: the shipped public-good one) once per process. */
export function loadTrustedRoot(file?: string): Promise<TrustedRoot> {
  const path = file ?? defaultTrustedRootPath();
  let p = loaded.get(path);
  if (p === undefined) {
    p = readFile(path, 'utf8').then(
      (text) => parseTrustedRoot(text, path),
      (e: unknown) => {
        // The user's file is their input (2); the trusted root shipped with the package missing is ours (1).
        throw new KairosImgError(file === undefined ? 'TRUSTED_ROOT_MISSING' : 'BAD_TRUSTED_ROOT', `cannot read the trusted root ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
          cause: e,
        });
      },
    );
    loaded.set(path, p);
  }
  return p;
}
