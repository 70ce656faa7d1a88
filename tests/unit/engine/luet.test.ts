import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOnPath, helpMentionsPlatform, luetUnpack, luetUnpackArgs } from '../../../src/engine/luet.js';
import { demuxLogs, dockerLuetCommand, dockerLuetCreateOptions } from '../../../src/engine/luet-docker.js';

describe('luet argument building', () => {
  it('passes --platform only when the luet version has it', () => {
    expect(luetUnpackArgs({ image: 'quay.io/kairos/x:v1.img', dir: '/o', platform: 'linux/arm64', platformFlag: true }))
      .toEqual(['util', 'unpack', '--platform', 'linux/arm64', 'quay.io/kairos/x:v1.img', '/o']);
    expect(luetUnpackArgs({ image: 'i', dir: '/o', platform: 'linux/arm64', platformFlag: false })).toEqual(['util', 'unpack', 'i', '/o']);
    expect(luetUnpackArgs({ image: 'i', dir: '/o', platformFlag: true })).toEqual(['util', 'unpack', 'i', '/o']);
  });

  it('reads --platform out of the help text', () => {
    expect(helpMentionsPlatform('Flags:\n      --platform string   Platform\n')).toBe(true);
    expect(helpMentionsPlatform('Flags:\n  -h, --help   help for unpack\n      --local\n')).toBe(false);
    expect(helpMentionsPlatform('see --platforms')).toBe(false);
  });

  it('builds the documented docker run, on the host network for loopback registries', () => {
    expect(dockerLuetCommand({ image: 'quay.io/kairos/x:v1.img', dir: '/abs/out' }))
      .toEqual(['docker', 'run', '--rm', '-v', '/abs/out:/image', 'quay.io/luet/base:latest', 'util', 'unpack', 'quay.io/kairos/x:v1.img', '/image']);
    const spec = dockerLuetCreateOptions({ image: '127.0.0.1:5000/kairos/x:v1.img', dir: '/abs/out', platform: 'linux/arm64' });
    expect(spec.Image).toBe('quay.io/luet/base:latest');
    expect(spec.Cmd).toEqual(['util', 'unpack', '127.0.0.1:5000/kairos/x:v1.img', '/image']);
    expect(spec.HostConfig?.Binds).toEqual(['/abs/out:/image']);
    expect(spec.HostConfig?.NetworkMode).toBe('host');
    expect(dockerLuetCreateOptions({ image: 'quay.io/kairos/x:v1.img', dir: '/o' }).HostConfig?.NetworkMode).toBeUndefined();
  });

  it('demultiplexes docker logs', () => {
    const frame = (s: number, text: string): Buffer => Buffer.concat([Buffer.from([s, 0, 0, 0, 0, 0, 0, text.length]), Buffer.from(text)]);
    expect(demuxLogs(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).toBe('out\nerr\n');
    expect(demuxLogs(Buffer.from('plain tty text'))).toBe('plain tty text');
  });
});

describe('luet availability', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kimg-luet-unit-'));
    await writeFile(path.join(dir, 'luet'), '#!/bin/sh\nexit 0\n');
    await chmod(path.join(dir, 'luet'), 0o755);
    await writeFile(path.join(dir, 'notexec'), '');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds executables on PATH only', async () => {
    expect(await findOnPath('luet', { PATH: `/nonexistent:${dir}` })).toBe(path.join(dir, 'luet'));
    expect(await findOnPath('notexec', { PATH: dir })).toBeUndefined();
    expect(await findOnPath('luet', { PATH: '' })).toBeUndefined();
  });

  it('neither luet nor a Docker engine → one error naming both', async () => {
    const err = await luetUnpack({ image: 'quay.io/kairos/x:v1.img', dir, env: { PATH: '/nonexistent', DOCKER_HOST: `unix://${dir}/no-such.sock` } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LUET_UNAVAILABLE' });
    const message = (err as Error).message;
    expect(message).toContain('luet');
    expect(message).toContain('quay.io/luet/base');
    expect(message).toContain('no-such.sock');
  });
});
