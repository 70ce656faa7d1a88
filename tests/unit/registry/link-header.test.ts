import { describe, expect, it } from 'vitest';
import { parseLinkNext, resolveSameOrigin } from '../../../src/registry/link-header.js';

describe('Link pagination', () => {
  it('finds rel="next" as distribution sends it', () => {
    expect(parseLinkNext('</v2/a/b/tags/list?last=t20&n=20>; rel="next"')).toBe('/v2/a/b/tags/list?last=t20&n=20');
  });
  it('finds next among several links and unquoted rel', () => {
    expect(parseLinkNext('<https://r/prev>; rel="prev", <https://r/v2/x/tags/list?last=b>; title="x, y"; rel=next')).toBe('https://r/v2/x/tags/list?last=b');
    expect(parseLinkNext('<https://r/a>; rel="first last"')).toBeUndefined();
    expect(parseLinkNext(undefined)).toBeUndefined();
  });
  it('resolves relative and absolute URLs on the same origin only', () => {
    const cur = 'http://127.0.0.1:5000/v2/x/tags/list?n=20';
    expect(resolveSameOrigin(cur, '/v2/x/tags/list?last=a&n=20')).toBe('http://127.0.0.1:5000/v2/x/tags/list?last=a&n=20');
    expect(resolveSameOrigin(cur, 'http://127.0.0.1:5000/v2/x/tags/list?last=b')).toBe('http://127.0.0.1:5000/v2/x/tags/list?last=b');
    expect(resolveSameOrigin(cur, 'http://127.0.0.2:5000/v2/x/tags/list?last=b')).toBeUndefined();
    expect(resolveSameOrigin(cur, 'https://127.0.0.1:5000/v2/x/tags/list')).toBeUndefined();
  });
});
