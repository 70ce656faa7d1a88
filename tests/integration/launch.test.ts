// The launcher (bin/kairos-img → dist/cli/launch.js): a command that never settles must not exit 0.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const launch = path.resolve('dist/cli/launch.js');

function run(mainBody: string): Promise<{ code: number | null; stderr: string }> {
  const script = `import { launch } from ${JSON.stringify(launch)};\nlaunch([], async () => { ${mainBody} });`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], (err, _stdout, stderr) => {
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stderr });
    });
  });
}

describe('launch', () => {
  it('exits with the code main() settles with', async () => {
    expect((await run('return 0;')).code).toBe(0);
    expect((await run('return 3;')).code).toBe(3);
  });

  it('a run whose event loop empties before main() settles exits 1 with an internal-error message', async () => {
    // A promise nobody resolves and nothing keeps alive: what a never-ending stream drain looked like.
    const r = await run('await new Promise(() => {}); return 0;');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/internal error: the command ended before it finished/);
  });

  it('a thrown error exits 1 with its message', async () => {
    const r = await run("throw new Error('kaboom');");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('kaboom');
  });
});
