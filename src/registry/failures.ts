/**
 * Turns registry responses and socket errors into KairosImgErrors a user can act on.
 * Transient ones (429, 5xx, resets) are marked so withRetry retries them; the last one
 * surfaces with the same code when the budget runs out.
 */
import { KairosImgError, isErrorCode, redact, type ErrorCode } from '../errors.js';
import { markTransient, isRetryableStatus, parseRetryAfter, isTransientNetworkError } from './retry.js';
import { headerValue, readSmall, type HttpResponse } from './http.js';

export interface FailureContext {
  registry: string;
  repository?: string | undefined;
  /** What we were doing, e.g. `manifest kairos/core:v1` or `blob sha256:…`. */
  what: string;
  tag?: string | undefined;
  digest?: string | undefined;
  /** What the request needed: a 403 on a write means push permission is missing, not pull. */
  action?: 'pull' | 'push' | undefined;
}

/**
 * Registry error codes of the write side (distribution spec "Error Codes") that callers act on:
 * an upload session that is gone or out of step is restarted, the rest are reported as they are.
 */
const WRITE_CODES: ReadonlySet<string> = new Set<ErrorCode>(['BLOB_UPLOAD_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'DIGEST_INVALID', 'SIZE_INVALID', 'MANIFEST_INVALID', 'MANIFEST_BLOB_UNKNOWN', 'MANIFEST_UNVERIFIED', 'TAG_INVALID', 'UNSUPPORTED']);

interface RegistryErrorBody { code?: string; message?: string }

export function parseRegistryErrors(text: string): RegistryErrorBody[] {
  try {
    const doc = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(doc.errors)) return [];
    return doc.errors.filter((e): e is RegistryErrorBody => typeof e === 'object' && e !== null).map((e) => ({
      code: typeof e.code === 'string' ? e.code : undefined,
      message: typeof e.message === 'string' ? e.message : undefined,
    }));
  } catch {
    return [];
  }
}

const cap = (s: string, n = 300): string => (s.length > n ? `${s.slice(0, n)}…` : s);

export function isLocalRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1' ||
    /^10\./.test(host) || /^192\.168\./.test(host) || /^172\.(1[6-9]|2\d|3[01])\./.test(host) || host.endsWith('.local');
}

/** A non-2xx response → error (reads the capped error body). 401 is handled by the auth layer first. */
export async function responseFailure(res: HttpResponse, ctx: FailureContext): Promise<KairosImgError> {
  const text = await readSmall(res.body);
  const errors = parseRegistryErrors(text);
  const first = errors[0];
  const regCode = first?.code;
  const regMsg = first?.message !== undefined ? cap(first.message) : undefined;
  const details: Record<string, unknown> = {
    registry: ctx.registry, repository: ctx.repository, status: res.status,
    ...(ctx.tag !== undefined ? { tag: ctx.tag } : {}), ...(ctx.digest !== undefined ? { digest: ctx.digest } : {}),
    ...(regCode !== undefined ? { registryCode: regCode } : {}), ...(regMsg !== undefined ? { registryMessage: regMsg } : {}),
  };
  const where = ctx.repository !== undefined ? `${ctx.registry}/${ctx.repository}` : ctx.registry;
  if (regCode !== undefined && WRITE_CODES.has(regCode) && isErrorCode(regCode)) {
    return new KairosImgError(regCode, `${where} refused ${ctx.what}: ${regCode}${regMsg ? ` (${regMsg})` : ''}`, {
      hint: regCode === 'DIGEST_INVALID' ? 'the registry computed another digest than the one sent: the content changed while it was uploaded' : undefined,
      details,
    });
  }
  if (res.status === 404) {
    if (regCode === 'NAME_UNKNOWN') {
      return new KairosImgError('NAME_UNKNOWN', `repository ${where} does not exist`, {
        hint: 'check the repository name (and --registry)', details,
      });
    }
    if (regCode === 'BLOB_UNKNOWN' || ctx.what.startsWith('blob')) {
      return new KairosImgError('BLOB_UNKNOWN', `${ctx.what} is not in ${where}`, { details });
    }
    const sel = ctx.tag !== undefined ? `tag ${ctx.tag}` : `manifest ${ctx.digest ?? ''}`;
    return new KairosImgError('MANIFEST_UNKNOWN', `${sel} not found in ${where}`, {
      hint: ctx.tag !== undefined ? `list the tags with: kairos-img tags ${where}` : undefined, details,
    });
  }
  if (res.status === 403) {
    return new KairosImgError('DENIED', `access to ${where} denied${regMsg ? `: ${regMsg}` : ''}`, {
      hint: `the credentials are valid but lack ${ctx.action ?? 'pull'} permission for this repository`, details,
    });
  }
  const err = new KairosImgError('REGISTRY_ERROR',
    `${where} answered ${res.status} for ${ctx.what}${regCode ? ` (${regCode}${regMsg ? `: ${regMsg}` : ''})` : ''}`, { details });
  if (isRetryableStatus(res.status)) markTransient(err, parseRetryAfter(headerValue(res.headers, 'retry-after')));
  return err;
}

const TLS_CODES = /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|ERR_OSSL)/;

/** A socket-level failure → error. Transient ones keep their transient mark. */
export function networkFailure(err: unknown, ctx: { host: string; registry: string; plainHttp: boolean }): unknown {
  if (!(err instanceof Error) || err instanceof KairosImgError) return err;
  if (err.name === 'AbortError') return err;
  const code = (err as { code?: unknown }).code;
  const c = typeof code === 'string' ? code : '';
  const details = { registry: ctx.registry, host: ctx.host, cause: c || err.message };
  if (c === 'ECONNREFUSED' || c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EHOSTUNREACH' || c === 'ENETUNREACH') {
    return new KairosImgError('REGISTRY_UNREACHABLE', `cannot reach ${ctx.host}: ${c === 'ENOTFOUND' ? 'the name does not resolve' : c}`, {
      hint: c === 'ENOTFOUND' ? 'check the registry name and your DNS' : 'check that the registry is running and the host/port is right',
      details, cause: err,
    });
  }
  if (TLS_CODES.test(c) || (c === 'EPROTO' && /ssl|tls|wrong version/i.test(err.message))) {
    return new KairosImgError('TLS_FAILURE', `TLS with ${ctx.host} failed: ${cap(redact(err.message), 200)}`, {
      hint: isLocalRegistry(ctx.registry)
        ? `if ${ctx.registry} is a local registry serving plain HTTP, add --plain-http`
        : 'check the system clock and CA certificates (NODE_EXTRA_CA_CERTS for a private CA)',
      details, cause: err,
    });
  }
  if (isTransientNetworkError(err)) {
    return markTransient(new KairosImgError('REGISTRY_CONNECTION_LOST', `connection to ${ctx.host} lost: ${cap(redact(err.message), 200)}`, { details, cause: err }));
  }
  return new KairosImgError('REGISTRY_UNREACHABLE', `request to ${ctx.host} failed: ${cap(redact(err.message), 200)}`, { details, cause: err });
}
