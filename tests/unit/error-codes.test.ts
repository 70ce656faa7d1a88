// README's table of error codes is the catalogue's: same codes, same exit codes, same meanings.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/error-codes.js';
import { ExitCode, KairosImgError, exitCodeOf } from '../../src/errors.js';

function readmeTable(): Map<string, { exit: number; meaning: string }> {
  const text = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = text.indexOf('## Error codes');
  expect(start).toBeGreaterThan(0);
  const rows = new Map<string, { exit: number; meaning: string }>();
  for (const line of text.slice(start).split('\n').slice(1)) {
    if (line.startsWith('## ')) break;
    const m = /^\| `([A-Z0-9_]+)` \| (\d+) \| (.*) \|$/.exec(line);
    if (m !== null) rows.set(m[1] as string, { exit: Number(m[2]), meaning: m[3] as string });
  }
  return rows;
}

describe('error codes', () => {
  it('README lists every code of the catalogue with its exit code and meaning, and nothing else', () => {
    const rows = readmeTable();
    const expected = new Map(Object.entries(ERROR_CODES).map(([code, info]) => [code, { exit: ExitCode[info.kind], meaning: info.meaning }]));
    expect([...rows.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [code, want] of expected) expect(rows.get(code), code).toEqual(want);
  });

  it('the code alone decides the exit code', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(exitCodeOf(new KairosImgError(code as keyof typeof ERROR_CODES, 'm')), code).toBe(ExitCode[info.kind]);
    }
  });
});
