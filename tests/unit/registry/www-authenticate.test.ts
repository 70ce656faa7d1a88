import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from '../../../src/registry/www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  it('parses a Bearer challenge whose quoted scope holds a comma', () => {
    const [c] = parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"');
    expect(c).toEqual({ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } });
  });
  it('parses Basic with a realm', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  });
  it('splits several challenges in one header and keeps parameters with their scheme', () => {
    const cs = parseWwwAuthenticate('Basic realm="x, y", Bearer realm="https://t/token", service=reg');
    expect(cs).toEqual([
      { scheme: 'basic', params: { realm: 'x, y' } },
      { scheme: 'bearer', params: { realm: 'https://t/token', service: 'reg' } },
    ]);
  });
  it('handles escapes, spacing around = and case-insensitive names', () => {
    const [c] = parseWwwAuthenticate('BEARER Realm = "a\\"b" ,  Error="insufficient_scope"');
    expect(c).toEqual({ scheme: 'bearer', params: { realm: 'a"b', error: 'insufficient_scope' } });
  });
  it('skips a token68 after a scheme', () => {
    expect(parseWwwAuthenticate('Negotiate abc==, Bearer realm="r"')).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'bearer', params: { realm: 'r' } },
    ]);
  });
  it('accepts several headers and nothing', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate(['Basic realm="a"', 'Bearer realm="b"']).map((c) => c.scheme)).toEqual(['basic', 'bearer']);
  });
});
