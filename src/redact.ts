/**
 * Secret redaction, by pattern and by value. Patterns catch credentials in the shapes they usually
 * travel in (URL userinfo, `Bearer …`, `token=…`, JSON `"password":…`); values catch the rest — a
 * registry or token server that echoes what it received, a JWT in a plain error message — the way CI
 * systems mask registered secrets. Every credential and token the process handles is registered
 * here (with its base64 forms) and masked in every output channel (src/cli/main.ts wraps stdout and
 * stderr), in error messages, JSON error documents and step outputs. Pure apart from the
 * process-wide set of known values.
 */

const MASK = '***';
/** Shorter values would mask ordinary words ("a", "ok"); credentials are longer than this. */
const MIN_SECRET_LENGTH = 4;

const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s:]+:[^/@\s]+@/gi, '$1***:***@'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, '$1 ***'],
  [/((?:^|[?&\s])(?:token|access_token|password|refresh_token|secret|sig|signature|x-amz-signature|x-amz-credential)=)[^&\s"']+/gi, '$1***'],
  [/("(?:token|access_token|refresh_token|password|auth|identitytoken|registrytoken|secret)"\s*:\s*")[^"]*"/gi, '$1***"'],
];

const known = new Set<string>();
let matcher: RegExp | undefined;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Registers a secret (and its base64 and base64url forms) so that it is masked wherever it appears. */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
  const b64 = Buffer.from(value, 'utf8').toString('base64');
  const forms = [value, b64, b64.replace(/=+$/, ''), Buffer.from(value, 'utf8').toString('base64url')];
  let changed = false;
  for (const f of forms) {
    if (f.length >= MIN_SECRET_LENGTH && !known.has(f)) {
      known.add(f);
      changed = true;
    }
  }
  if (changed) matcher = undefined;
}

/** Registers a username/password pair: each part that is secret, and the `user:pass` Basic form. */
export function registerCredentials(username: string | undefined, password: string | undefined): void {
  registerSecret(password);
  if (password !== undefined && password !== '') registerSecret(`${username ?? ''}:${password}`);
}

/** Forgets every registered value (tests). */
export function clearSecrets(): void {
  known.clear();
  matcher = undefined;
}

function valueMatcher(): RegExp | undefined {
  if (known.size === 0) return undefined;
  // Longest first, so a secret's base64 form is masked whole rather than around a shorter secret.
  matcher ??= new RegExp([...known].sort((a, b) => b.length - a.length).map(escapeRegex).join('|'), 'g');
  return matcher;
}

export function redact(text: string): string {
  let out = text;
  const values = valueMatcher();
  if (values !== undefined) out = out.replace(values, MASK);
  for (const [re, repl] of SECRET_PATTERNS) out = out.replace(re, repl);
  return out;
}

/** A JSON-like value with every string redacted (error documents, step outputs). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}

/**
 * A writable that redacts each write before passing it on (stdout, stderr). Writes are whole lines
 * or documents in this tool, so a secret is never split across two writes.
 */
export function redactingStream<S extends NodeJS.WritableStream>(stream: S): S {
  return new Proxy(stream, {
    get(target, prop, receiver) {
      if (prop === 'write') {
        return (chunk: unknown, ...rest: unknown[]) => {
          const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : chunk;
          const redacted = typeof text === 'string' ? redact(text) : text;
          return (target.write as (...a: unknown[]) => boolean).call(target, redacted, ...rest);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
