import { describe, expect, it } from 'vitest';
import { expectedDigestFor, imageCompressionOf, isDiskImageName, parseChecksumFile, uncompressedName } from '../../../src/artifacts/checksum-file.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('parseChecksumFile', () => {
  it('reads Kairos’ form: text mode, absolute /build path', () => {
    const r = parseChecksumFile(`${A}  /build/kairos-core-alpine-arm-rpi-v1.5.0.img\n`);
    expect(r.problems).toEqual([]);
    expect(r.lines).toEqual([{ hex: A, name: '/build/kairos-core-alpine-arm-rpi-v1.5.0.img', binary: false }]);
  });

  it('reads the * binary marker, upper-case hex, CRLF and several lines', () => {
    const r = parseChecksumFile(`${A.toUpperCase()} *x.img\r\n\n${B}  other.img\n`);
    expect(r.lines).toEqual([
      { hex: A, name: 'x.img', binary: true },
      { hex: B, name: 'other.img', binary: false },
    ]);
  });

  it('unescapes coreutils’ backslash form and reads BSD tags', () => {
    const r = parseChecksumFile(`\\${A}  dir\\\\with\\nnewline.img\nSHA256 (bsd.img) = ${B}\n`);
    expect(r.lines.map((l) => l.name)).toEqual(['dir\\with\nnewline.img', 'bsd.img']);
    expect(r.lines[1]?.hex).toBe(B);
  });

  it('reports lines that are not sha256sum output without failing', () => {
    const r = parseChecksumFile(`deadbeef  short.img\n${A}  ok.img\n`);
    expect(r.lines).toHaveLength(1);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toContain('line 1');
  });
});

describe('matching by base name', () => {
  const lines = parseChecksumFile(`${A}  /build/kairos.img\n${B}  /build/other.img\n`).lines;

  it('matches a compressed image to the checksum of its uncompressed name', () => {
    for (const shipped of ['kairos.img.xz', 'kairos.img.gz', 'kairos.img.zst', 'kairos.img', 'build/kairos.img.xz']) {
      const e = expectedDigestFor(shipped, lines);
      expect(e).toMatchObject({ kind: 'one', hex: A, of: 'raw' });
    }
  });

  it('a line naming the compressed file is over the shipped bytes', () => {
    const e = expectedDigestFor('kairos.img.xz', parseChecksumFile(`${B}  kairos.img.xz\n`).lines);
    expect(e).toMatchObject({ kind: 'one', hex: B, of: 'shipped' });
  });

  it('no line for the image → none; two different digests → conflict', () => {
    expect(expectedDigestFor('missing.img.xz', lines)).toEqual({ kind: 'none' });
    const twice = parseChecksumFile(`${A}  /build/kairos.img\n${B}  kairos.img\n`).lines;
    expect(expectedDigestFor('kairos.img.xz', twice)).toMatchObject({ kind: 'conflict' });
    const same = parseChecksumFile(`${A}  /build/kairos.img\n${A}  kairos.img\n`).lines;
    expect(expectedDigestFor('kairos.img.xz', same)).toMatchObject({ kind: 'one', hex: A });
  });

  it('does not match on a name that merely ends the same', () => {
    expect(expectedDigestFor('kairos.img.xz', parseChecksumFile(`${A}  /build/my-kairos.img\n`).lines)).toEqual({ kind: 'none' });
  });
});

describe('names', () => {
  it('compression by suffix', () => {
    expect(imageCompressionOf('a.img.xz')).toBe('xz');
    expect(imageCompressionOf('a.img.gz')).toBe('gzip');
    expect(imageCompressionOf('a.img.zst')).toBe('zstd');
    expect(imageCompressionOf('a.img')).toBe('none');
    expect(uncompressedName('build/a.img.xz')).toBe('a.img');
  });

  it('disk images are .img with an optional compression suffix', () => {
    expect(isDiskImageName('k.img.xz')).toBe(true);
    expect(isDiskImageName('k.img')).toBe(true);
    expect(isDiskImageName('k.img.sha256')).toBe(false);
    expect(isDiskImageName('k.iso')).toBe(false);
    expect(isDiskImageName('k.img.bz2')).toBe(false);
  });
});
