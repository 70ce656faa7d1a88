// The artifact commands' task lists: uploads get per-file bytes and rate, as downloads do.
import { describe, expect, it } from 'vitest';
import { artifactPullProgress, artifactPushProgress, artifactPushSteps } from '../../../src/cli/progress/artifact.js';
import type { StepUi } from '../../../src/cli/progress/task-list.js';

function recorder(): { ui: StepUi; calls: string[] } {
  const calls: string[] = [];
  const rec = (name: string) => (...a: unknown[]) => { calls.push(`${name} ${a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' | ')}`); };
  const ui = {
    mode: 'tty', title: rec('title'), output: rec('output'), flush: rec('flush'), done: rec('done'), skip: rec('skip'),
    items: rec('items'), itemOutput: rec('itemOutput'), itemDone: rec('itemDone'), log: rec('log'),
  } as unknown as StepUi;
  return { ui, calls };
}

describe('artifact push progress', () => {
  it('opens an item per file for reading and for uploading, with bytes and rate while uploading', () => {
    expect(artifactPushSteps({ attach: true }).map((s) => s.id)).toEqual(['resolve', 'subject', 'files', 'upload', 'manifest', 'referrers']);
    const { ui, calls } = recorder();
    const on = artifactPushProgress(ui);
    on({ type: 'artifact-files', files: [{ title: 'disk.img', kind: 'file', size: 10 * 1048576 }, { title: 'tree', kind: 'directory' }] });
    on({ type: 'artifact-bytes', title: 'disk.img', phase: 'upload', bytes: 5 * 1048576, total: 10 * 1048576 });
    on({ type: 'artifact-blob', title: 'disk.img', digest: 'sha256:x', how: 'uploaded', resumes: 1, restarts: 0 });
    on({ type: 'artifact-blob', title: 'tree', digest: 'sha256:y', how: 'exists', resumes: 0, restarts: 0 });
    on({ type: 'artifact-manifest', reference: 'r/x:1', digest: 'sha256:0123456789abcdef0123', size: 500 });
    expect(calls[0]).toContain('items files | [{"id":"disk.img","title":"disk.img (10.0 MiB)"},{"id":"tree","title":"tree (directory)"}]');
    expect(calls[1]).toContain('items upload');
    expect(calls[2]).toMatch(/^itemOutput upload \| disk\.img \| 5\.0 MiB \/ 10\.0 MiB · [\d.]+ MiB\/s$/);
    expect(calls).toContain('itemDone upload | disk.img |  (resumed 1×)');
    expect(calls).toContain('itemDone upload | tree |  already in the registry');
    expect(calls[calls.length - 1]).toContain('done manifest | Pushed r/x:1');
  });
});

describe('artifact pull progress', () => {
  it('shows bytes and rate per file and warns about layers without a title', () => {
    const { ui, calls } = recorder();
    const warnings: string[] = [];
    const on = artifactPullProgress(ui, (l) => warnings.push(l));
    on({ type: 'artifact-skipped', digest: 'sha256:abcdef0123456789abcdef', mediaType: 'x/y', reason: 'no org.opencontainers.image.title' });
    on({ type: 'artifact-files', files: [{ title: 'a.bin', kind: 'file', size: 1048576 }] });
    on({ type: 'artifact-bytes', title: 'a.bin', phase: 'download', bytes: 524288, total: 1048576 });
    on({ type: 'artifact-file-done', title: 'a.bin', digest: 'sha256:z', size: 1048576 });
    expect(warnings[0]).toContain('skipped: no org.opencontainers.image.title');
    expect(calls.some((c) => /^itemOutput download \| a\.bin \| 0\.5 MiB \/ 1\.0 MiB/.test(c))).toBe(true);
    expect(calls).toContain('itemDone download | a.bin |  verified');
  });
});
