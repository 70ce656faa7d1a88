// GITHUB_STEP_SUMMARY for the image commands: with the variable set, each appends a short Markdown
// account of what it did (references, digests, sizes, verdicts), made in one place (render.ts).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { testEnv } from '../helpers/env.js';
import { json, runCli } from '../helpers/cli.js';

const env = testEnv();
const reg = env.registry;
let work: string;

async function withSummary(args: string[]): Promise<{ code: number; data: Record<string, unknown>; md: string; out: string }> {
  const md = path.join(work, `summary-${Math.random().toString(36).slice(2)}.md`);
  const out = path.join(work, `output-${Math.random().toString(36).slice(2)}`);
  await writeFile(md, '# earlier steps\n');
  await writeFile(out, '');
  const r = await runCli(['--registry', reg, '--plain-http', ...args, '--json'], {
    env: { KAIROS_IMG_CACHE: path.join(work, 'cache'), GITHUB_STEP_SUMMARY: md, GITHUB_OUTPUT: out, DOCKER_CONFIG: work },
  });
  return { code: r.code, data: json(r), md: await readFile(md, 'utf8'), out: await readFile(out, 'utf8') };
}

beforeAll(async () => {
  await seed({ registry: reg, set: 'test', log: () => undefined });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-summary-'));
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('step summaries', () => {
  it('pull: reference, digest, platform, size; appended after what was there', async () => {
    const r = await withSummary(['pull', 'opensuse', 'core', '--version', 'v1.4.0', '--to', `oci:${path.join(work, 'layout')}`]);
    expect(r.code).toBe(0);
    expect(r.md.startsWith('# earlier steps\n### kairos-img pull\n')).toBe(true);
    expect(r.md).toContain(`| reference | \`${r.data.reference as string}\` |`);
    expect(r.md).toContain(`| digest | \`${r.data.digest as string}\` |`);
    expect(r.md).toMatch(/\| platform \| linux\/\w+ \|/);
    expect(r.md).toMatch(/\| OCI layout \| `oci:.*layout:v1\.4\.0` \|/);
    expect(r.out).toContain(`digest=${r.data.digest as string}\n`);
  });

  it('unpack: the directory and the entries written', async () => {
    const dir = path.join(work, 'rootfs');
    const r = await withSummary(['unpack', 'opensuse', 'core', dir, '--version', 'v1.4.0']);
    expect(r.code).toBe(0);
    expect(r.md).toContain('### kairos-img unpack');
    expect(r.md).toContain(`| directory | \`${dir}\` |`);
    expect(r.md).toContain(`| entries | ${r.data.entries as number} |`);
  });

  it('verify: the verdict in the heading and a row per check', async () => {
    const r = await withSummary(['verify', `${reg}/kairos/core-opensuse:v1.4.0`]);
    expect(r.md).toMatch(/### kairos-img verify (✅ passed|❌ failed)/);
    const checks = r.data.checks as Array<{ id: string }>;
    expect(checks.length).toBeGreaterThan(0);
    for (const c of checks) expect(r.md).toContain(`| ${c.id} |`);
  });

  it('extract-img: each file written with its size, sha256 and checksum status', async () => {
    const r = await withSummary(['extract-img', 'alpine-arm-rpi', '--version', 'v1.5.0', '--out', path.join(work, 'img')]);
    expect(r.code).toBe(0);
    const files = r.data.files as Array<{ path: string; checksum: string }>;
    for (const f of files) expect(r.md).toContain(`| ${f.path} |`);
    expect(r.md).toContain('| verified |');
  });

  it('tags: a table of tags with their kind and verdict', async () => {
    const r = await withSummary(['tags', `${reg}/kairos/core-opensuse`]);
    expect(r.code).toBe(0);
    expect(r.md).toContain('### kairos-img tags');
    expect(r.md).toContain('| tag | kind | verdict |');
    expect(r.md).toContain('| v1.4.0 |');
  });
});
