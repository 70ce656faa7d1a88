/**
 * RFC 7235 `WWW-Authenticate` parsing, pure. Registries send
 * `Bearer realm="https://…",service="…",scope="repository:a/b:pull,push"` — quoted values may hold
 * commas, and one header may carry several challenges (`Basic realm="x", Bearer realm="y"`),
 * so splitting on commas is wrong; this is a small tokenizer instead.
 */

export interface Challenge {
  /** Lowercased scheme: `bearer`, `basic`, … */
  scheme: string;
  /** Lowercased parameter names → unescaped values. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const headers = Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const h of headers) out.push(...parseOne(h));
  return out;
}

function parseOne(input: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const s = input;
  const skipWs = (): void => { while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++; };
  const skipSeparators = (): void => { while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++; };
  let current: Challenge | undefined;
  while (i < s.length) {
    skipSeparators();
    const tok = TOKEN.exec(s.slice(i))?.[0];
    if (tok === undefined) { i++; continue; }
    const afterTok = i + tok.length;
    // Is this token a parameter name (followed by "=") or a new scheme?
    let j = afterTok;
    while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
    if (s[j] === '=' && current !== undefined) {
      i = j + 1;
      skipWs();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++; // closing quote
      } else {
        const v = /^[^,\s]*/.exec(s.slice(i))?.[0] ?? '';
        value = v;
        i += v.length;
      }
      current.params[tok.toLowerCase()] = value;
      continue;
    }
    // A scheme. Token68 (e.g. `Negotiate abc==`) after it is ignored.
    current = { scheme: tok.toLowerCase(), params: {} };
    challenges.push(current);
    i = afterTok;
    skipWs();
    const t68 = /^[A-Za-z0-9\-._~+/]+=*\s*(?=,|$)/.exec(s.slice(i))?.[0];
    if (t68 !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\s*=\s*[^=\s,]/.test(s.slice(i))) i += t68.length;
  }
  return challenges;
}
