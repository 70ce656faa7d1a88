import { describe, expect, it } from 'vitest';
import { classifyEntry, entryTypeOf } from '../../../src/artifacts/artifact-entries.js';
import { artifactTags } from '../../../src/artifacts/artifact-tags.js';
import { writeCommand } from '../../../src/operations/extract-img.js';

describe('classifyEntry', () => {
  it('accepts regular files directly in build/ (luet pack) and at the root (v3.4+ scratch)', () => {
    expect(classifyEntry('build/k.img.xz', 'file')).toEqual({ kind: 'file', name: 'k.img.xz', style: 'build' });
    expect(classifyEntry('./build/k.img.sha256', 'file')).toEqual({ kind: 'file', name: 'k.img.sha256', style: 'build' });
    expect(classifyEntry('k.img.xz', 'file')).toEqual({ kind: 'file', name: 'k.img.xz', style: 'scratch' });
    expect(classifyEntry('/build/k.img', 'file')).toMatchObject({ kind: 'file', name: 'k.img' });
  });

  it('skips directories silently', () => {
    expect(classifyEntry('build/', 'directory')).toMatchObject({ kind: 'skip', reason: 'directory', warn: false });
    expect(classifyEntry('./', 'directory')).toMatchObject({ kind: 'skip', warn: false });
  });

  it('never follows or writes links, devices or fifos', () => {
    for (const type of ['symlink', 'link', 'fifo', 'character-device', 'block-device', 'other'] as const) {
      expect(classifyEntry('build/k.img.xz', type)).toMatchObject({ kind: 'skip', reason: 'not-a-regular-file', warn: true });
    }
  });

  it('refuses names with .. anywhere, and NUL bytes', () => {
    expect(classifyEntry('../k.img', 'file')).toMatchObject({ kind: 'skip', reason: 'unsafe-name' });
    expect(classifyEntry('build/../../etc/passwd', 'file')).toMatchObject({ kind: 'skip', reason: 'unsafe-name' });
    expect(classifyEntry('build/x/../k.img', 'file')).toMatchObject({ kind: 'skip', reason: 'unsafe-name' });
    expect(classifyEntry('build/k\u0000.img', 'file')).toMatchObject({ kind: 'skip', reason: 'unsafe-name' });
  });

  it('skips a root filesystem: anything deeper than build/<file> or <file>', () => {
    expect(classifyEntry('etc/os-release', 'file')).toMatchObject({ kind: 'skip', reason: 'outside-build', warn: true });
    expect(classifyEntry('build/sub/k.img', 'file')).toMatchObject({ kind: 'skip', reason: 'outside-build' });
    expect(classifyEntry('usr/bin/k3s', 'file')).toMatchObject({ kind: 'skip' });
  });

  it('skips whiteouts', () => {
    expect(classifyEntry('build/.wh.old.img', 'file')).toMatchObject({ kind: 'skip', reason: 'metadata' });
  });

  it('maps the tar walk`s entry kinds', () => {
    expect(entryTypeOf('file')).toBe('file');
    expect(entryTypeOf('dir')).toBe('directory');
    expect(entryTypeOf('hardlink')).toBe('link');
    expect(entryTypeOf('symlink')).toBe('symlink');
    expect(entryTypeOf(undefined)).toBe('other');
  });
});

describe('artifactTags', () => {
  it('keeps .img and -img tags, newest first, and drops images and noise', () => {
    const tags = ['v1.5.0', 'v1.5.0.img', 'v1.4.0.img', 'latest', 'sha256-' + 'a'.repeat(64) + '.sig', 'leap-15.5-core-arm64-rpi4-v2.4.3-img', 'leap-15.5-core-arm64-rpi4-v2.4.3'];
    expect(artifactTags('kairos/opensuse', tags)).toEqual(['leap-15.5-core-arm64-rpi4-v2.4.3-img', 'v1.5.0.img', 'v1.4.0.img']);
  });

  it('in a -img repository every release tag is an artifact', () => {
    expect(artifactTags('kairos/core-opensuse-arm-rpi-img', ['v2.3.0', 'v2.2.1', 'latest', 'master'])).toEqual(['v2.3.0', 'v2.2.1']);
  });
});

describe('writeCommand', () => {
  it('raw images go to dd; compressed ones through their decoder', () => {
    expect(writeCommand({ path: '/b/k.img', compression: 'none' })).toBe('sudo dd if=/b/k.img of=/dev/sdX bs=4M conv=fsync status=progress');
    expect(writeCommand({ path: '/b/k.img', compression: 'xz', decompressed: true })).toContain('sudo dd if=/b/k.img ');
    expect(writeCommand({ path: '/b/k.img.xz', compression: 'xz' })).toBe('xz -dc /b/k.img.xz | sudo dd of=/dev/sdX bs=4M conv=fsync status=progress');
    expect(writeCommand({ path: "/my dir/k.img", compression: 'none' })).toContain("if='/my dir/k.img'");
  });
});
