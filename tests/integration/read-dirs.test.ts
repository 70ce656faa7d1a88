// readImageFiles' directory listings (`dirs`, for diff's /lib/modules) and raw link targets over
// real layer blobs: the highest layer's child wins, a whiteout hides a child below, an opaque
// marker or a non-directory at the path ends the listing after its layer, parents left out of an
// archive still name their child directory, and a caller's `decided` stops before lower layers.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opaqueWhiteout, whiteout, withParents, writeLayer, type Entry, type LayerSpec } from '../../scripts/fixtures/image-builder.mjs';
import { readImageFiles, type LayerBlob } from '../../src/unpack/read-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kimg-read-dirs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function layers(specs: Array<Entry[] | LayerSpec>): Promise<{ blobs: LayerBlob[]; opened: number[] }> {
  const opened: number[] = [];
  const blobs: LayerBlob[] = [];
  for (const [i, s] of specs.entries()) {
    const layer: LayerSpec = Array.isArray(s) ? { compression: 'gzip', entries: withParents(s) } : s;
    const r = await writeLayer({ dir, layer });
    blobs.push({ digest: r.digest, mediaType: r.mediaType, size: r.size, open: () => { opened.push(i); return createReadStream(path.join(dir, 'blobs', 'sha256', r.digest.slice(7))); } });
  }
  return { blobs, opened };
}

const file = (p: string, content = ''): Entry => ({ path: p, type: 'file', content });
const names = (l: { entries: ReadonlyArray<{ name: string }> }): string[] => l.entries.map((e) => e.name);

describe('directory listings', () => {
  it('merges the layers: higher layers win, whiteouts hide what is below, every layer read makes it complete', async () => {
    const { blobs } = await layers([
      [file('/lib/modules/6.8.0-45-generic/modules.dep'), file('/lib/modules/6.5.0-9-generic/modules.dep'), file('/lib/modules/README')],
      [whiteout('/lib/modules/6.5.0-9-generic'), file('/lib/modules/6.8.0-49-generic/modules.dep')],
    ]);
    const r = await readImageFiles({ layers: blobs, paths: [], dirs: ['/lib/modules'] });
    expect(r.list('/lib/modules')).toEqual({
      complete: true,
      entries: [{ name: '6.8.0-45-generic', kind: 'dir' }, { name: '6.8.0-49-generic', kind: 'dir' }, { name: 'README', kind: 'file' }],
    });
  });
  it('an opaque marker ends the listing after its layer: lower layers are not read', async () => {
    const { blobs, opened } = await layers([
      [file('/lib/modules/old/modules.dep')],
      [opaqueWhiteout('/lib/modules'), file('/lib/modules/new/modules.dep')],
    ]);
    const r = await readImageFiles({ layers: blobs, paths: [], dirs: ['/lib/modules'] });
    expect(names(r.list('/lib/modules'))).toEqual(['new']);
    expect(r.list('/lib/modules').complete).toBe(true);
    expect(opened).toEqual([1]);
  });
  it('a symlink in the listing keeps its target; a non-directory at the path replaces it', async () => {
    const { blobs } = await layers([
      [file('/boot/old')],
      [{ path: '/boot', type: 'symlink', linkname: 'usr/boot' }],
    ]);
    const r = await readImageFiles({ layers: blobs, paths: [], dirs: ['/boot'] });
    expect(r.list('/boot')).toEqual({ entries: [], complete: true });
    const { blobs: b2 } = await layers([[file('/boot/vmlinuz-6.8.0'), { path: '/boot/vmlinuz', type: 'symlink', linkname: 'vmlinuz-6.8.0' }]]);
    const r2 = await readImageFiles({ layers: b2, paths: [], dirs: ['/boot'] });
    expect(r2.list('/boot').entries).toContainEqual({ name: 'vmlinuz', kind: 'symlink', linkname: 'vmlinuz-6.8.0' });
  });
  it('archives without parent directory entries still name the child directory', async () => {
    const { blobs } = await layers([{ compression: 'none', entries: [file('lib/modules/6.1.0/kernel/x.ko')] }]);
    const r = await readImageFiles({ layers: blobs, paths: [], dirs: ['/lib/modules'] });
    expect(r.list('/lib/modules').entries).toEqual([{ name: '6.1.0', kind: 'dir' }]);
  });
  it('a caller\'s decided stops early: the listing of the layers read is incomplete; link() names a link without following it', async () => {
    const { blobs, opened } = await layers([
      [file('/lib/modules/6.8.0/modules.dep'), file('/boot/vmlinuz-6.8.0', 'k'.repeat(1000))],
      [{ path: '/boot/vmlinuz', type: 'symlink', linkname: 'vmlinuz-6.8.0' }, file('/lib/modules/6.8.0/extra.ko')],
    ]);
    const r = await readImageFiles({
      layers: blobs, paths: ['/boot/vmlinuz'], dirs: ['/lib/modules'],
      decided: (view) => view.link('/boot/vmlinuz') !== undefined && view.list('/lib/modules').entries.length > 0,
    });
    expect(opened).toEqual([1]);
    expect(r.link('/boot/vmlinuz')).toBe('boot/vmlinuz-6.8.0');
    expect(r.list('/lib/modules')).toEqual({ entries: [{ name: '6.8.0', kind: 'dir' }], complete: false });
  });
});
