/**
 * Registry authentication (distribution token spec + Basic), written to the spec because no
 * maintained JavaScript client exists. On a 401 the challenge is parsed and remembered per
 * registry; Bearer tokens are fetched from the realm (anonymously, or with Basic credentials,
 * or an OAuth2 refresh token) and cached per (registry, scope) until `expires_in` minus a margin.
 * Tokens and credentials never leave this module except as an Authorization header value.
 */
import { registerSecret } from '../redact.js';
import { KairosImgError } from '../errors.js';
import type { CredentialLookup, CredentialSource, Credentials } from './credentials.js';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';
import { discard, httpRequest, readCapped } from './http.js';
import { networkFailure, responseFailure } from './failures.js';
import type { RegistryEvent } from './events.js';

export const DEFAULT_TOKEN_TTL_S = 60;
const EXPIRY_MARGIN_MS = 10_000;

export interface TokenResponse { token: string; expiresInS: number }

/** `{token | access_token, expires_in}` → token; pure. */
export function parseTokenResponse(body: string): TokenResponse | undefined {
  try {
    const doc = JSON.parse(body) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const token = typeof doc.token === 'string' && doc.token !== '' ? doc.token
      : typeof doc.access_token === 'string' && doc.access_token !== '' ? doc.access_token : undefined;
    if (token === undefined) return undefined;
    const exp = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : DEFAULT_TOKEN_TTL_S;
    return { token, expiresInS: exp };
  } catch {
    return undefined;
  }
}

/** When a cached token must be considered gone (expiry minus a margin, never negative). */
export function tokenDeadline(now: number, expiresInS: number): number {
  const ttl = expiresInS * 1000;
  return now + Math.max(ttl / 2, ttl - EXPIRY_MARGIN_MS);
}

export function basicHeader(c: Credentials): string | undefined {
  if (c.username === undefined) return undefined;
  return `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
}

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** Writing needs pull too (distribution checks both for uploads and manifest PUTs). */
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/** Several scopes in one token (a cross-repository mount reads the source repository too). */
export function joinScopes(...scopes: string[]): string {
  return [...new Set(scopes)].join(' ');
}

export interface Authenticator {
  /** The Authorization header to send to `registry` for `scope` (undefined: anonymous). */
  header(registry: string, scope: string | undefined, signal?: AbortSignal): Promise<string | undefined>;
  /**
   * Records a 401 challenge and prepares new credentials; false when a retry cannot help.
   * `sent` is the Authorization the refused request carried (none: anonymous).
   */
  challenge(registry: string, scope: string | undefined, wwwAuthenticate: string | string[] | undefined, signal?: AbortSignal, sent?: string): Promise<boolean>;
  /** An UNAUTHORIZED error naming the credential source that was tried. */
  unauthorized(registry: string, repository: string | undefined, signal?: AbortSignal): Promise<KairosImgError>;
}

export interface AuthenticatorOptions {
  credentials: CredentialSource;
  plainHttp: boolean;
  userAgent: string;
  onEvent?: ((e: RegistryEvent) => void) | undefined;
  now?: () => number;
}

export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const now = opts.now ?? Date.now;
  const challenges = new Map<string, Challenge>();
  const tokens = new Map<string, { value: string; deadline: number }>();
  const lookups = new Map<string, Promise<CredentialLookup>>();
  const inflight = new Map<string, Promise<string>>();

  const lookup = (registry: string, signal?: AbortSignal): Promise<CredentialLookup> => {
    let p = lookups.get(registry);
    if (p === undefined) {
      p = opts.credentials.lookup(registry, signal);
      lookups.set(registry, p);
      p.catch(() => lookups.delete(registry));
    }
    return p;
  };

  async function fetchToken(registry: string, ch: Challenge, scope: string | undefined, signal?: AbortSignal): Promise<string> {
    const realm = ch.params.realm;
    if (realm === undefined || realm === '') {
      throw new KairosImgError('REGISTRY_ERROR', `${registry} asked for a bearer token without a realm`);
    }
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new KairosImgError('REGISTRY_ERROR', `${registry} sent an invalid token realm`);
    }
    const { credentials: creds, source } = await lookup(registry, signal);
    if (creds?.registryToken !== undefined) return creds.registryToken;
    const service = ch.params.service;
    const scopeParam = scope ?? ch.params.scope;
    opts.onEvent?.({ type: 'auth', registry, message: `fetching a token from ${url.host} for ${scopeParam ?? 'registry access'} (${creds ? source : 'anonymous'})` });
    let res;
    try {
      if (creds?.identityToken !== undefined) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'kairos-img' });
        if (service !== undefined) form.set('service', service);
        if (scopeParam !== undefined) form.set('scope', scopeParam);
        res = await httpRequest({ url: url.toString(), method: 'POST', body: form.toString(), signal,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': opts.userAgent } });
      } else {
        if (service !== undefined) url.searchParams.set('service', service);
        // One `scope` parameter per scope, as the token spec and Docker send them.
        for (const s of scopeParam?.split(' ').filter((x) => x !== '') ?? []) url.searchParams.append('scope', s);
        const headers: Record<string, string> = { 'user-agent': opts.userAgent };
        const basic = creds ? basicHeader(creds) : undefined;
        if (basic !== undefined) headers.authorization = basic;
        res = await httpRequest({ url: url.toString(), method: 'GET', headers, signal });
      }
    } catch (err) {
      throw networkFailure(err, { host: url.host, registry, plainHttp: opts.plainHttp });
    }
    if (res.status === 401 || res.status === 403) {
      discard(res.body);
      throw unauthorizedError(registry, undefined, { credentials: creds, source }, 'the token server rejected');
    }
    if (res.status < 200 || res.status >= 300) {
      throw await responseFailure(res, { registry, what: `token from ${url.host}` });
    }
    const body = await readCapped(res.body, 1024 * 1024, 'token response');
    const parsed = parseTokenResponse(body.toString('utf8'));
    if (parsed === undefined) throw new KairosImgError('REGISTRY_ERROR', `the token server ${url.host} answered without a token`);
    registerSecret(parsed.token);
    tokens.set(`${registry} ${scope ?? ''}`, { value: parsed.token, deadline: tokenDeadline(now(), parsed.expiresInS) });
    return parsed.token;
  }

  async function bearer(registry: string, ch: Challenge, scope: string | undefined, signal?: AbortSignal): Promise<string> {
    const key = `${registry} ${scope ?? ''}`;
    const cached = tokens.get(key);
    if (cached !== undefined && cached.deadline > now()) return cached.value;
    // Concurrent layer downloads share one token request.
    let p = inflight.get(key);
    if (p === undefined) {
      p = fetchToken(registry, ch, scope, signal).finally(() => inflight.delete(key));
      inflight.set(key, p);
    }
    return p;
  }

  return {
    async header(registry, scope, signal) {
      const ch = challenges.get(registry);
      if (ch === undefined) return undefined;
      if (ch.scheme === 'bearer') return `Bearer ${await bearer(registry, ch, scope, signal)}`;
      if (ch.scheme === 'basic') {
        const { credentials } = await lookup(registry, signal);
        return credentials ? basicHeader(credentials) : undefined;
      }
      return undefined;
    },
    async challenge(registry, scope, header, signal, sent) {
      const all = parseWwwAuthenticate(header);
      const ch = all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
      if (ch === undefined) return false;
      challenges.set(registry, ch);
      opts.onEvent?.({ type: 'auth', registry, message: `${registry} asks for ${ch.scheme} authentication` });
      if (ch.scheme === 'basic') {
        const { credentials } = await lookup(registry, signal);
        // Retrying makes sense only if we now have something new to send (concurrent first
        // requests all come back 401 before any of them learnt the scheme: each retries once).
        const basic = credentials === undefined ? undefined : basicHeader(credentials);
        return basic !== undefined && basic !== sent;
      }
      // The token we sent (if any) was refused: drop it so the retry fetches a fresh one.
      tokens.delete(`${registry} ${scope ?? ''}`);
      return true;
    },
    async unauthorized(registry, repository, signal) {
      return unauthorizedError(registry, repository, await lookup(registry, signal), 'the registry refused');
    },
  };
}

function unauthorizedError(registry: string, repository: string | undefined, l: CredentialLookup, who: string): KairosImgError {
  const target = repository !== undefined ? `${registry}/${repository}` : registry;
  const message = l.credentials !== undefined
    ? `unauthorized: ${who} the credentials for ${target} from ${l.source}`
    : `unauthorized: ${target} needs credentials; tried ${l.source}`;
  return new KairosImgError('UNAUTHORIZED', message, {
    hint: l.credentials !== undefined ? `check them with: docker login ${registry}` : `run: docker login ${registry}`,
    details: { registry, repository, credentialSource: l.source },
  });
}
