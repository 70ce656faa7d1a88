// `unpack --via docker` and `--via luet` give the tree the native unpack gives (the Docker engine
// adds only its own files), atomically, and say clearly when neither engine is there.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../scripts/fixtures/seed.mjs';
import { testEnv } from '../helpers/env.js';
import { snapshotTree, normalizeInodeGroups, type TreeNode } from '../helpers/layers.js';
import { json, runCli } from '../helpers/cli.js';

const env = testEnv();
const STANDIN = path.resolve('tests/helpers/luet-standin');
// Files and mount points a container runtime adds to every container's filesystem.
const ENGINE_OWN = /^(\.dockerenv|dev|proc|sys|etc\/(hosts|hostname|resolv\.conf|mtab))(\/|$)/;
let work: string;

function cli(args: string[], extra: NodeJS.ProcessEnv = {}) {
  return runCli(['--registry', env.registry, '--plain-http', ...args], {
    env: { KAIROS_IMG_CACHE: path.join(work, 'cache'), DOCKER_HOST: env.dockerHost, ...extra },
  });
}

function comparable(tree: Map<string, TreeNode>, dropEngineFiles: boolean): Record<string, TreeNode> {
  const out: Record<string, TreeNode> = {};
  for (const [p, n] of normalizeInodeGroups(tree)) if (!dropEngineFiles || !ENGINE_OWN.test(p)) out[p] = n;
  return out;
}

beforeAll(async () => {
  await seed({ registry: env.registry, set: 'test' });
  work = await mkdtemp(path.join(os.tmpdir(), 'kimg-via-'));
}, 300_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('unpack --via', () => {
  it('docker: the same tree as the native unpack, apart from the engine\'s own files', async () => {
    const native = path.join(work, 'native');
    const viaDocker = path.join(work, 'docker');
    expect((await cli(['unpack', 'opensuse', 'standard', native, '--version', 'v1.5.0', '--k3s', 'v1.26.1+k3s1'])).code).toBe(0);
    const r = await cli(['unpack', 'opensuse', 'standard', viaDocker, '--version', 'v1.5.0', '--k3s', 'v1.26.1+k3s1', '--via', 'docker', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ via: string }>(r).via).toBe('docker');
    // The engine manages /etc/hostname and friends in every container: compare the rest.
    const a = comparable(await snapshotTree(native), true);
    const b = comparable(await snapshotTree(viaDocker), true);
    expect(b).toEqual(a);
    expect(Object.keys(a).length).toBeGreaterThan(20);
  });
  it('luet (the stand-in luet on PATH really unpacks with skopeo + umoci): the same tree, staged then renamed', async () => {
    const native = path.join(work, 'native-core');
    const viaLuet = path.join(work, 'luet');
    expect((await cli(['unpack', 'opensuse', 'core', native, '--version', 'v1.3.2'])).code).toBe(0);
    const r = await cli(['unpack', 'opensuse', 'core', viaLuet, '--version', 'v1.3.2', '--via', 'luet', '--json'], { PATH: `${STANDIN}:${process.env.PATH ?? ''}` });
    expect(r.code, r.stderr).toBe(0);
    const d = json<{ via: string; engine: string }>(r);
    expect(d.via).toBe('luet');
    expect(d.engine).toMatch(/^luet util unpack /);
    const a = comparable(await snapshotTree(native), false);
    const b = comparable(await snapshotTree(viaLuet), false);
    // umoci (inside the stand-in) keeps modes and content as we do; compare paths, types, content and link targets.
    const strip = (t: Record<string, TreeNode>) => Object.fromEntries(Object.entries(t).map(([p, n]) => [p, { type: n.type, sha256: n.sha256, target: n.target }]));
    expect(strip(b)).toEqual(strip(a));
    expect((await readdir(work)).filter((n) => n.startsWith('.kimg-'))).toEqual([]);
  });
  it('luet with neither luet on PATH nor a Docker engine: a clear error naming both, nothing written', async () => {
    const dir = path.join(work, 'nothing');
    const r = await cli(['unpack', 'opensuse', 'core', dir, '--version', 'v1.3.2', '--via', 'luet'], { PATH: '/usr/bin:/bin', DOCKER_HOST: `unix://${path.join(work, 'no.sock')}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/luet/);
    expect(r.stderr).toMatch(/Docker|docker/);
    expect((await readdir(work)).filter((n) => n === 'nothing' || n.includes('.nothing.'))).toEqual([]);
  });
  it('an unknown engine is a usage error', async () => {
    const r = await cli(['unpack', 'opensuse', 'core', path.join(work, 'x'), '--version', 'v1.3.2', '--via', 'podman']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --via podman is not an engine/m);
  });
});
