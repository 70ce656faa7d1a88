/**
 * `Link: <url>; rel="next"` parsing for tag list pagination (RFC 8288), pure.
 * The next URL may be relative (`/v2/x/tags/list?last=a&n=20`, what distribution sends) or
 * absolute; it is resolved against the request URL and refused when it leaves the host,
 * so a hostile registry cannot send us (and our token) elsewhere.
 */

export function parseLinkNext(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const all = Array.isArray(header) ? header.join(', ') : header;
  const re = /<([^>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:"[^"]*"|[^;,]*))?)*)/g;
  for (let m = re.exec(all); m !== null; m = re.exec(all)) {
    const params = m[2] ?? '';
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return m[1];
  }
  return undefined;
}

/** Resolves `next` against `current`; undefined when it points at another origin. */
export function resolveSameOrigin(current: string, next: string): string | undefined {
  let url: URL;
  try {
    url = new URL(next, current);
  } catch {
    return undefined;
  }
  const base = new URL(current);
  if (url.host !== base.host || url.protocol !== base.protocol) return undefined;
  return url.toString();
}
