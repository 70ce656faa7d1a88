import { afterEach, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { clearSecrets, redact, redactDeep, redactingStream, registerCredentials, registerSecret } from '../../src/redact.js';

afterEach(() => clearSecrets());

describe('redaction by value', () => {
  it('masks a registered secret and its base64 forms wherever they appear', () => {
    registerSecret('s3cr3t-token-value');
    const b64 = Buffer.from('s3cr3t-token-value').toString('base64');
    expect(redact('echo: s3cr3t-token-value!')).toBe('echo: ***!');
    expect(redact(`as base64 ${b64}`)).toBe('as base64 ***');
    expect(redact(`unpadded ${b64.replace(/=+$/, '')}.`)).toBe('unpadded ***.');
  });

  it('masks the Basic form of a username and password, and the password alone', () => {
    registerCredentials('bob', 'pa55word!');
    const basic = Buffer.from('bob:pa55word!').toString('base64');
    expect(redact(`got ${basic} from bob with pa55word!`)).toBe('got *** from bob with ***');
  });

  it('ignores values too short to be secrets, and redacts JSON documents deeply', () => {
    registerSecret('ab');
    expect(redact('abc')).toBe('abc');
    registerSecret('longer-secret');
    expect(redactDeep({ a: ['x longer-secret'], b: { c: 'longer-secret' }, n: 3 })).toEqual({ a: ['x ***'], b: { c: '***' }, n: 3 });
  });

  it('a redacting stream masks what is written through it', () => {
    registerSecret('stream-secret');
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => { text += d.toString(); });
    const s = redactingStream(out);
    s.write('line with stream-secret\n');
    s.write(Buffer.from('and stream-secret again\n'));
    expect(text).toBe('line with ***\nand *** again\n');
  });
});
