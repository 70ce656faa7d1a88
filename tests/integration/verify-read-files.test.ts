// readImageFiles over real layer blobs (tar built by the fixture builder; gzip, zstd, none), read
// from an OCI layout on disk: top-down precedence, whiteouts, opaque directories, symlinks and
// hardlinks followed inside the image, and stopping before lower layers once the files are decided.
import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opaqueWhiteout, whiteout, withParents, writeLayer, type Entry, type LayerSpec } from '../../scripts/fixtures/image-builder.mjs';
import { readImageFiles, type LayerBlob } from '../../src/unpack/read-files.js';
import { KairosImgError } from '../../src/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kimg-read-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Opened {
  blobs: LayerBlob[];
  /** Layer indexes (manifest order) that were opened. */
  opened: number[];
}

/** Layers bottom first, as a manifest lists them. */
async function layers(specs: Array<Entry[] | LayerSpec>): Promise<Opened> {
  const opened: number[] = [];
  const blobs: LayerBlob[] = [];
  for (const [i, s] of specs.entries()) {
    const layer: LayerSpec = Array.isArray(s) ? { compression: 'gzip', entries: withParents(s) } : s;
    const r = await writeLayer({ dir, layer });
    blobs.push({
      digest: r.digest,
      mediaType: r.mediaType,
      size: r.size,
      open: () => {
        opened.push(i);
        return createReadStream(path.join(dir, 'blobs', 'sha256', r.digest.slice(7)));
      },
    });
  }
  return { blobs, opened };
}

const file = (p: string, content: string): Entry => ({ path: p, type: 'file', content });
const text = (l: { state: string; content?: Buffer }): string | undefined => (l.state === 'present' ? l.content?.toString() : l.state);

describe('readImageFiles', () => {
  it('takes each file from the highest layer that has it and stops once every path is decided', async () => {
    const { blobs, opened } = await layers([
      [file('/etc/a', 'bottom a'), file('/etc/b', 'bottom b'), file('/big', 'x'.repeat(100_000))],
      [file('/etc/b', 'middle b')],
      [file('/etc/a', 'top a')],
    ]);
    const r = await readImageFiles({ layers: blobs, paths: ['/etc/a', '/etc/b'] });
    expect([text(r.lookup('/etc/a')), text(r.lookup('/etc/b'))]).toEqual(['top a', 'middle b']);
    expect(opened).toEqual([2, 1]);
    expect(r.layersRead).toBe(2);
    expect(r.complete).toBe(false);
    const bottom = blobs[0]?.size ?? 0;
    expect(r.bytesRead).toBe(r.bytesTotal - bottom);
  });

  it('reads every layer when a path exists nowhere, then calls it absent', async () => {
    const { blobs, opened } = await layers([[file('/etc/a', 'a')], [file('/etc/c', 'c')]]);
    const r = await readImageFiles({ layers: blobs, paths: ['/etc/a', '/etc/missing'] });
    expect(opened).toEqual([1, 0]);
    expect(r.complete).toBe(true);
    expect(r.lookup('/etc/missing')).toEqual({ state: 'absent' });
    expect(r.entries.get('etc/missing')).toEqual({ kind: 'absent', why: 'not-in-image' });
    expect(r.lookup('/etc/unasked')).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/not looked for/) });
  });

  it('honours a whiteout, an opaque directory and a file over a directory in a higher layer', async () => {
    const { blobs, opened } = await layers([
      [file('/etc/gone', 'lower'), file('/opt/app/x', 'lower'), file('/srv/d/y', 'lower'), file('/keep', 'k')],
      [whiteout('/etc/gone'), opaqueWhiteout('/opt/app'), file('/opt/app/new', 'same layer as the opaque marker'), file('/srv/d', 'a file now')],
    ]);
    const r = await readImageFiles({ layers: blobs, paths: ['/etc/gone', '/opt/app/x', '/opt/app/new', '/srv/d/y'] });
    expect(opened).toEqual([1]);
    expect(r.entries.get('etc/gone')).toMatchObject({ kind: 'absent', why: 'whiteout', layer: 1 });
    expect(r.entries.get('opt/app/x')).toMatchObject({ kind: 'absent', why: 'opaque', layer: 1 });
    expect(r.entries.get('srv/d/y')).toMatchObject({ kind: 'absent', why: 'shadowed', layer: 1 });
    expect(text(r.lookup('/opt/app/new'))).toBe('same layer as the opaque marker');
  });

  it('a whiteout of a parent directory hides the file below it', async () => {
    const { blobs } = await layers([[file('/etc/kairos/x', 'lower')], [whiteout('/etc/kairos')]]);
    const r = await readImageFiles({ layers: blobs, paths: ['/etc/kairos/x'] });
    expect(r.lookup('/etc/kairos/x')).toEqual({ state: 'absent' });
  });

  it('follows /etc/os-release -> ../usr/lib/os-release to the top version of the target', async () => {
    const { blobs, opened } = await layers([
      [file('/usr/lib/os-release', 'ID=base'), { path: '/etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' }],
      [file('/usr/lib/os-release', 'ID=updated')],
      [file('/etc/hostname', 'top')],
    ]);
    const r = await readImageFiles({ layers: blobs, paths: ['/etc/os-release', '/usr/lib/os-release'] });
    expect(r.lookup('/etc/os-release')).toMatchObject({ state: 'present', path: '/usr/lib/os-release' });
    expect(text(r.lookup('/etc/os-release'))).toBe('ID=updated');
    expect(opened).toEqual([2, 1, 0]);
  });

  it('makes a symlink target wanted when it was not asked for, and follows absolute links and hardlinks', async () => {
    const { blobs } = await layers([
      [file('/usr/share/real', 'real'), file('/data/one', 'hard target')],
      [{ path: '/etc/abs', type: 'symlink', linkname: '/usr/share/real' }, { path: '/etc/hard', type: 'hardlink', linkname: '/data/one' }],
    ]);
    const r = await readImageFiles({ layers: blobs, paths: ['/etc/abs', '/etc/hard'] });
    expect(text(r.lookup('/etc/abs'))).toBe('real');
    expect(text(r.lookup('/etc/hard'))).toBe('hard target');
  });

  it('keeps a link that climbs above the root inside the image', async () => {
    const { blobs } = await layers([[file('/etc/target', 'inside'), { path: '/etc/link', type: 'symlink', linkname: '../../../../etc/target' }]]);
    const r = await readImageFiles({ layers: blobs, paths: ['/etc/link'] });
    expect(text(r.lookup('/etc/link'))).toBe('inside');
  });

  it('reports a symlink loop, a directory at a wanted path and an oversized file as unknown', async () => {
    const { blobs } = await layers([[
      { path: '/a', type: 'symlink', linkname: '/b' },
      { path: '/b', type: 'symlink', linkname: '/a' },
      { path: '/etc/os-release', type: 'dir' },
      file('/big', 'x'.repeat(2000)),
    ]]);
    const r = await readImageFiles({ layers: blobs, paths: ['/a', '/etc/os-release', '/big'], maxFileSize: 1000 });
    expect(r.lookup('/a')).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/too many symlinks/) });
    expect(r.lookup('/etc/os-release')).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/is a directory, not a file/) });
    expect(r.lookup('/big')).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/larger than 1000 bytes/) });
  });

  it('reads zstd and uncompressed layers', async () => {
    const { blobs } = await layers([
      { compression: 'zstd', entries: withParents([file('/etc/z', 'zstd')]) },
      { compression: 'none', entries: withParents([file('/etc/n', 'none')]) },
    ]);
    const r = await readImageFiles({ layers: blobs, paths: ['/etc/z', '/etc/n'] });
    expect([text(r.lookup('/etc/z')), text(r.lookup('/etc/n'))]).toEqual(['zstd', 'none']);
  });

  it('stops where the caller says it has enough', async () => {
    const { blobs, opened } = await layers([[file('/etc/b', 'b')], [file('/etc/a', 'a')]]);
    const r = await readImageFiles({ layers: blobs, paths: ['/etc/a', '/etc/b'], decided: (v) => v.lookup('/etc/a').state === 'present' });
    expect(opened).toEqual([1]);
    expect(r.lookup('/etc/b')).toEqual({ state: 'unknown' });
  });

  it('fails with a clear error on a blob that is not what its media type says', async () => {
    const { blobs } = await layers([{ compression: 'none', entries: withParents([file('/etc/a', 'a')]) }]);
    const lying = blobs.map((b) => ({ ...b, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }));
    await expect(readImageFiles({ layers: lying, paths: ['/etc/a'] })).rejects.toMatchObject({ code: 'UNPACK_LAYER_FORMAT_MISMATCH' });
    const garbage: LayerBlob[] = [{ digest: 'sha256:x', mediaType: 'application/vnd.oci.image.layer.v1.tar', size: 10, open: () => createReadStream(path.join(dir, 'oci-layout')) }];
    await expect(readImageFiles({ layers: garbage, paths: ['/etc/a'] })).rejects.toBeInstanceOf(KairosImgError);
  });
});
