// The Markdown step summaries render.ts makes from a command's data (pure).
import { describe, expect, it } from 'vitest';
import { mdTable, stepSummary } from '../../../src/cli/render.js';

describe('stepSummary', () => {
  it('lists the facts a command reports, in a fixed order, sizes in binary units', () => {
    const md = stepSummary('pull', { digest: 'sha256:abc', reference: 'r/x:1', size: 3 * 1024 * 1024, layers: 2, platform: 'linux/arm64', layout: { dir: '/o', tag: 'v1' } });
    expect(md).toBe([
      '### kairos-img pull', '',
      '| | |', '| --- | --- |', '| reference | `r/x:1` |', '| digest | `sha256:abc` |', '| platform | linux/arm64 |', '| layers | 2 |', '| size | 3.0 MiB |', '| OCI layout | `oci:/o:v1` |',
      '', '',
    ].join('\n'));
  });

  it('puts a verdict in the heading and a row per check', () => {
    const md = stepSummary('verify', { ok: false, checks: [{ id: 'support', ok: false, message: 'a | b' }, { id: 'arch', ok: true, message: 'fine' }] });
    expect(md).toContain('### kairos-img verify ❌ failed');
    expect(md).toContain('| support | ❌ | a \\| b |');
    expect(md).toContain('| arch | ✅ | fine |');
  });

  it('falls back to scalar fields and list sizes', () => {
    expect(stepSummary('flavors', { os: 'kairos', rows: [1, 2, 3], nested: { x: 1 } })).toContain('| rows | 3 |');
    expect(stepSummary('x', [1, 2])).toContain('| entries | 2 |');
  });

  it('keeps table rows on one line', () => {
    expect(mdTable(['a'], [['line1\nline2']])).toBe('| a |\n| --- |\n| line1 line2 |');
  });
});
