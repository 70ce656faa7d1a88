import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runWithTasks } from '../../../src/cli/progress/task-list.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d: Buffer) => { out += d.toString(); });
  return { stream, text: () => out };
}

const steps = [
  { id: 'a', title: 'Step A' },
  { id: 'b', title: 'Step B' },
  { id: 'c', title: 'Step C' },
];

describe('runWithTasks (the listr2 adapter)', () => {
  it('shows each step with the title its events give it and returns the operation result', async () => {
    const err = capture();
    const result = await runWithTasks({
      steps, mode: 'plain', stderr: err.stream, signal: new AbortController().signal,
      run: async (ui) => {
        ui.done('a', 'Did A');
        ui.items('b', [{ id: 'x', title: 'Item X' }, { id: 'y', title: 'Item Y' }]);
        ui.itemDone('b', 'y', ' cached');
        await new Promise((r) => setTimeout(r, 5));
        ui.itemDone('b', 'x');
        ui.skip('c', 'Step C');
        return 42;
      },
    });
    expect(result).toBe(42);
    const text = err.text();
    expect(text).toContain('✔ Did A');
    expect(text).toContain('✔ Item X');
    expect(text).toContain('✔ Item Y cached');
    expect(text).toMatch(/Step C/);
    expect(text.indexOf('Did A')).toBeLessThan(text.indexOf('Item X'));
  });

  it('fails the running step with the operation error and throws that error', async () => {
    const err = capture();
    const boom = Object.assign(new Error('the registry said no'), { code: 'X' });
    await expect(runWithTasks({
      steps, mode: 'plain', stderr: err.stream, signal: new AbortController().signal,
      run: async (ui) => {
        ui.done('a');
        throw boom;
      },
    })).rejects.toBe(boom);
    expect(err.text()).toContain('✖ Step B');
    expect(err.text()).not.toContain('Step C');
  });

  it('prints nothing in silent mode, and progress lines only for steps still running after the interval', async () => {
    const silent = capture();
    await runWithTasks({
      steps, mode: 'silent', stderr: silent.stream, signal: new AbortController().signal,
      run: async (ui) => { ui.output('a', 'half way'); ui.done('a'); ui.done('b'); ui.done('c'); },
    });
    expect(silent.text()).toBe('');
    const plain = capture();
    await runWithTasks({
      steps: steps.slice(0, 1), mode: 'plain', stderr: plain.stream, signal: new AbortController().signal,
      run: async (ui) => { ui.output('a', 'half way'); ui.done('a'); },
    });
    // A step shorter than the plain-log interval shows only its completion.
    expect(plain.text()).not.toContain('half way');
  });

  it('writes --verbose log lines only in verbose mode', async () => {
    const lines: string[] = [];
    for (const mode of ['plain', 'verbose'] as const) {
      await runWithTasks({
        steps: steps.slice(0, 1), mode, stderr: new PassThrough(), signal: new AbortController().signal, verboseLog: (l) => lines.push(`${mode}:${l}`),
        run: async (ui) => { ui.log('GET /v2/'); ui.done('a'); },
      });
    }
    expect(lines).toEqual(['verbose:GET /v2/']);
  });
});
