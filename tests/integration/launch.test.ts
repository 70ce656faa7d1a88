// The launcher (bin/kairos-img → dist/cli/launch.js): a command that never settles must not exit 0;
// run as a program, bin/kairos-img re-runs itself under node with the heap flag it exists for.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
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

describe('bin/kairos-img', () => {
  const bin = path.resolve('bin/kairos-img');

  /** Runs `cmd args` with a preload that records the node flags of the process that runs the CLI. */
  function flagsOf(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; execArgv: string[] }> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kimg-launch-'));
    const record = path.join(dir, 'argv.json');
    const preload = path.join(dir, 'record.cjs');
    writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.execArgv)));`);
    return new Promise((resolve) => {
      execFile(cmd, args, { env: { ...process.env, NODE_OPTIONS: `--require ${preload}` } }, (err, stdout) => {
        const execArgv = JSON.parse(readFileSync(record, 'utf8')) as string[];
        rmSync(dir, { recursive: true, force: true });
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stdout, execArgv });
      });
    });
  }

  it('run as a program, it runs node with a 64 MB initial heap and 2 MB semi-spaces (one process: sh execs node)', async () => {
    const r = await flagsOf(bin, ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.execArgv).toContain('--initial-heap-size=64');
    expect(r.execArgv).toContain('--max-semi-space-size=2');
  });

  it('run as `node bin/kairos-img`, the same file is plain JavaScript and works without the flag', async () => {
    const r = await flagsOf(process.execPath, [bin, '--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.execArgv).not.toContain('--initial-heap-size=64');
    expect(r.execArgv).not.toContain('--max-semi-space-size=2');
  });
});
