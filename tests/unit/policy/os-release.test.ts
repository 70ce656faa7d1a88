import { describe, expect, it } from 'vitest';
import { parseOsRelease } from '../../../src/policy/os-release.js';
import { upstreamOsRelease, kairosReleaseEntries } from '../../../scripts/fixtures/kairos-shapes.mjs';

function values(text: string): Record<string, string> {
  return Object.fromEntries(parseOsRelease(text).values);
}

describe('parseOsRelease', () => {
  it('reads double-quoted, single-quoted and unquoted values', () => {
    expect(values('NAME="openSUSE Leap"\nID=ubuntu\nPRETTY=\'Alpine Linux v3.18\'\n')).toEqual({
      NAME: 'openSUSE Leap',
      ID: 'ubuntu',
      PRETTY: 'Alpine Linux v3.18',
    });
  });

  it('undoes backslash escapes: inside double quotes only $ ` " \\, outside any character', () => {
    expect(values('A="say \\"hi\\" for \\$5 \\`x\\` \\\\ \\n"\nB=one\\ two\nC=\'no \\escape\'')).toEqual({
      A: 'say "hi" for $5 `x` \\ \\n',
      B: 'one two',
      C: 'no \\escape',
    });
  });

  it('skips comments and blank lines, and ends an unquoted value at a trailing comment', () => {
    const text = ['# comment', '', '   # indented comment', 'ID=kairos   # trailing', 'VERSION_ID="1.2" # quoted then comment', '  '].join('\n');
    expect(values(text)).toEqual({ ID: 'kairos', VERSION_ID: '1.2' });
    expect(parseOsRelease(text).problems).toEqual([]);
  });

  it('treats `export KEY=value` as an assignment, and joins adjacent quoted parts as sh does', () => {
    expect(values('export KAIROS_VERSION="v2.3.0"\nexport\tID=x\nJOINED="a"\'b\'c')).toEqual({ KAIROS_VERSION: 'v2.3.0', ID: 'x', JOINED: 'abc' });
  });

  it('lets the last assignment win and keeps it in its last position', () => {
    const r = parseOsRelease('ID=ubuntu\nNAME=x\nID=kairos\n');
    expect(r.values.get('ID')).toBe('kairos');
    expect([...r.values.keys()]).toEqual(['NAME', 'ID']);
  });

  it('accepts CRLF line ends and empty values', () => {
    expect(values('ID=alpine\r\nVARIANT=\r\nEMPTY=""\r\n')).toEqual({ ID: 'alpine', VARIANT: '', EMPTY: '' });
  });

  it('reports lines that are not assignments and keeps the keys around them', () => {
    const r = parseOsRelease('ID=ubuntu\nthis is not a key\n1BAD=x\nKEY = spaced\nVERSION_ID=22.04\n');
    expect(Object.fromEntries(r.values)).toEqual({ ID: 'ubuntu', VERSION_ID: '22.04' });
    expect(r.problems.map((p) => p.line)).toEqual([2, 3, 4]);
    expect(r.problems[0]?.problem).toMatch(/not a KEY=value assignment/);
  });

  it('reports unterminated quotes and unquoted spaces', () => {
    const r = parseOsRelease('A="open\nB=\'open\nC=two words\nD=ok\n');
    expect(Object.fromEntries(r.values)).toEqual({ D: 'ok' });
    expect(r.problems.map((p) => p.problem)).toEqual(['A: unterminated double quote', 'B: unterminated single quote', 'C: unquoted value contains a space']);
  });

  it('reads the fixture distributions and every Kairos era as their files are written', () => {
    expect(values(upstreamOsRelease('ubuntu-22.04'))).toMatchObject({ ID: 'ubuntu', VERSION_ID: '22.04', VERSION_CODENAME: 'jammy' });
    expect(values(upstreamOsRelease('alpine-3.18'))).toMatchObject({ ID: 'alpine', VERSION_ID: '3.18.4' });
    expect(values(upstreamOsRelease('opensuse-leap-15.5'))).toMatchObject({ ID: 'opensuse-leap', VERSION_ID: '15.5' });
    const v2 = kairosReleaseEntries({ repository: 'kairos/core-ubuntu-22-lts', tag: 'v2.3.0', version: 'v2.3.0', flavor: 'ubuntu-22-lts', variant: 'core', upstream: 'ubuntu-22.04' });
    const text = String(v2[0]?.content);
    expect(values(text)).toMatchObject({ ID: 'ubuntu', KAIROS_VERSION: 'v2.3.0', KAIROS_FLAVOR: 'ubuntu-22-lts' });
  });
});
