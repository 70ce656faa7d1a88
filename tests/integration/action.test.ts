// The composite action (action.yml): its `run` steps executed with bash as a GitHub runner runs
// them (`bash --noprofile --norc -eo pipefail`), expressions filled in from the inputs, against
// the built CLI and the real registry, with simulated GITHUB_OUTPUT / GITHUB_STEP_SUMMARY /
// GITHUB_PATH files. `uses:` steps (setup-node) are the runner's business and are not run here.
import { randomBytes, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from '../helpers/env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const env = testEnv();
const run = randomBytes(4).toString('hex');
let work: string;

interface Step { name?: string; id?: string; uses?: string; run?: string; shell?: string; env?: Record<string, string>; 'working-directory'?: string }
interface Action {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

const action = YAML.parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as Action;

/** `${{ github.action_path }}` and `${{ inputs.x }}`: the only expressions the action may use in env and options. */
function expand(value: string, inputs: Record<string, string>): string {
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, expr: string) => {
    if (expr === 'github.action_path') return ROOT;
    const input = /^inputs\.([\w-]+)$/.exec(expr);
    if (input !== null) {
      const name = input[1] as string;
      const def = action.inputs[name];
      if (def === undefined) throw new Error(`action.yml uses an undeclared input ${name}`);
      return inputs[name] ?? def.default ?? '';
    }
    throw new Error(`unexpected expression in action.yml: ${expr}`);
  });
}

/** GitHub's GITHUB_OUTPUT format: `k=v` lines and `k<<DELIM … DELIM` blocks. */
function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc !== null) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i] as string);
      out[heredoc[1] as string] = value.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

interface ActionRun { outputs: Record<string, string>; summary: string; path: string; stdout: string; stderr: string }

/** Runs the action's steps in order, as the runner does; fails on the first step that fails. */
async function runAction(inputs: Record<string, string>, cwd: string): Promise<ActionRun> {
  const files = await mkdtemp(path.join(work, 'runner-'));
  const ghOutput = path.join(files, 'output');
  const ghSummary = path.join(files, 'summary');
  const ghPath = path.join(files, 'path');
  await Promise.all([writeFile(ghOutput, ''), writeFile(ghSummary, ''), writeFile(ghPath, '')]);
  let stdout = '';
  let stderr = '';
  for (const [i, step] of action.runs.steps.entries()) {
    if (step.run === undefined) continue;
    expect(step.shell).toBe('bash');
    const script = path.join(files, `step-${i}.sh`);
    await writeFile(script, step.run);
    const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(v, inputs)]));
    const r = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd: path.resolve(cwd, expand(step['working-directory'] ?? '.', inputs)),
      reject: false,
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', GITHUB_ACTIONS: 'true', NO_COLOR: '1', DOCKER_CONFIG: path.join(work, 'docker'),
        GITHUB_OUTPUT: ghOutput, GITHUB_STEP_SUMMARY: ghSummary, GITHUB_PATH: ghPath, ...stepEnv,
      },
      extendEnv: false,
    });
    stdout += r.stdout;
    stderr += r.stderr;
    if (r.exitCode !== 0) throw new Error(`step "${step.name ?? i}" exited ${r.exitCode}:\n${r.stderr}`);
  }
  const stepOutputs = parseOutputFile(await readFile(ghOutput, 'utf8'));
  // The action's outputs, as the runner maps them from the step's.
  const outputs = Object.fromEntries(Object.entries(action.outputs).map(([k, o]) => {
    const m = /^\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$/.exec(o.value);
    if (m === null) throw new Error(`output ${k} is not a step output`);
    expect(action.runs.steps.some((s) => s.id === m[1])).toBe(true);
    return [k, stepOutputs[m[2] as string] ?? ''];
  }));
  return { outputs, summary: await readFile(ghSummary, 'utf8'), path: await readFile(ghPath, 'utf8'), stdout, stderr };
}

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('build the CLI first: npm run build');
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-action-'));
  await mkdir(path.join(work, 'docker'));
});

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('action.yml', () => {
  it('is a composite action whose scripts never paste inputs into shell source', () => {
    expect(action.runs.using).toBe('composite');
    const scripts = action.runs.steps.filter((s) => s.run !== undefined);
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    for (const s of scripts) expect(s.run).not.toContain('${{');
    expect(action.inputs.command?.required).toBe(true);
  });

  it('pushes with an artifact command, then pulls it: outputs digest/reference/path and a summary each time', async () => {
    const src = path.join(work, 'src');
    await mkdir(path.join(src, 'build'), { recursive: true });
    const disk = randomBytes(200_000);
    await writeFile(path.join(src, 'build', 'my disk.img'), disk);
    await writeFile(path.join(src, 'build', 'my disk.img.sha256'), `${createHash('sha256').update(disk).digest('hex')}  /build/my disk.img\n`);
    const ref = `${env.registry}/kimg-action-${run}/disk:v1`;
    // Multi-line: one argument per line, so a path with a space is one argument.
    const push = await runAction({
      command: `artifact\npush\n  ${ref}\n  my disk.img:application/octet-stream\n  my disk.img.sha256\n--plain-http\n`,
      'working-directory': 'build',
    }, src);
    expect(push.path.trim()).toBe(path.join(ROOT, 'bin'));
    expect(push.outputs.reference).toBe(ref);
    expect(push.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(push.summary).toContain('### kairos-img artifact push');
    expect(push.summary).toContain(push.outputs.digest);
    expect(push.summary).toContain('| my disk.img |');

    const pull = await runAction({ command: `artifact pull ${ref} --out pulled --plain-http` }, src);
    expect(pull.outputs.digest).toBe(push.outputs.digest);
    expect(pull.outputs.path).toBe(path.join(src, 'pulled'));
    expect((pull.outputs.paths ?? '').split('\n').sort()).toEqual([path.join(src, 'pulled', 'my disk.img'), path.join(src, 'pulled', 'my disk.img.sha256')]);
    expect((await readFile(path.join(src, 'pulled', 'my disk.img'))).equals(disk)).toBe(true);
    expect(pull.summary).toContain('### kairos-img artifact pull');
    // stdout is the command's own text (the human form); the runner shows it in the log.
    expect(pull.stdout).toContain(push.outputs.digest);
  });

  it('fails the step with the command\'s exit code and message', async () => {
    await expect(runAction({ command: `artifact pull ${env.registry}/kimg-action-${run}/missing:v1 --plain-http` }, work)).rejects.toThrow(/exited 1:[\s\S]*error: /);
    await expect(runAction({ command: '   ' }, work)).rejects.toThrow(/command input is empty/);
  });
});
