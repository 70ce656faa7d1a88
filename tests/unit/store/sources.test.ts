// The pure parts of the image sources (transport syntax, image selection in archives and layouts,
// the synthesized manifest) and the seeking tar index on crafted archives.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTransport, formatTransport, selectArchiveEntry, selectLayoutEntries, synthesizeManifest, normalizeMemberName } from '../../../src/store/sources/index.js';
import { tarFileView } from '../../../src/store/sources/files.js';
import { rawEntry, BLOCK } from '../../helpers/layers.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'kimg-src-unit-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('parseTransport', () => {
  it('reads the transports skopeo users know; the path ends at the first colon', () => {
    expect(parseTransport('docker-archive:img.tar')).toEqual({ kind: 'docker-archive', path: 'img.tar', name: undefined });
    expect(parseTransport('docker-archive:/a/img.tar:quay.io/kairos/core:v1')).toEqual({ kind: 'docker-archive', path: '/a/img.tar', name: 'quay.io/kairos/core:v1' });
    expect(parseTransport('docker-archive:img.tar:@2')).toEqual({ kind: 'docker-archive', path: 'img.tar', index: 2 });
    expect(parseTransport('oci-archive:x.tar:v1')).toEqual({ kind: 'oci-archive', path: 'x.tar', name: 'v1' });
    expect(parseTransport('oci:./dir:kairos/ubuntu:T')).toEqual({ kind: 'oci', path: './dir', name: 'kairos/ubuntu:T' });
    expect(parseTransport('docker-daemon:quay.io/kairos/core:v1')).toEqual({ kind: 'docker-daemon', name: 'quay.io/kairos/core:v1' });
    expect(parseTransport('docker://quay.io/kairos/core:v1')).toEqual({ kind: 'docker', reference: 'quay.io/kairos/core:v1' });
  });

  it('leaves references and catalog names alone', () => {
    for (const s of ['quay.io/kairos/core:v1', '127.0.0.1:5000/x:y', 'ubuntu-22-lts', 'ocifoo/bar:v1', 'docker.io/library/alpine']) expect(parseTransport(s)).toBeUndefined();
  });

  it('refuses malformed sources with BAD_SOURCE naming the problem', () => {
    for (const s of ['docker-archive:', 'oci:', 'oci-archive::v1', 'oci:dir:', 'docker-archive:x.tar:@', 'docker-archive:x.tar:@-1', 'docker-daemon:', 'docker://']) {
      expect(() => parseTransport(s), s).toThrow(expect.objectContaining({ code: 'BAD_SOURCE' }));
    }
  });

  it('formats back what it parsed', () => {
    for (const s of ['docker-archive:/a.tar', 'docker-archive:/a.tar:x/y:z', 'docker-archive:/a.tar:@1', 'oci:/d:v1', 'oci-archive:/f.tar', 'docker-daemon:a/b:c']) {
      const t = parseTransport(s);
      if (t === undefined || t.kind === 'docker') throw new Error(s);
      expect(formatTransport(t)).toBe(s);
    }
  });
});

describe('selectArchiveEntry', () => {
  const entries = [
    { Config: 'a.json', RepoTags: ['quay.io/kairos/core-opensuse:v1.4.0'], Layers: ['l1.tar'] },
    { Config: 'b.json', RepoTags: ['busybox:latest', 'busybox:1'], Layers: [] },
    { Config: 'c.json', RepoTags: [], Layers: [] },
  ];
  it('by name (normalized as docker does), by number, or the only one', () => {
    expect(selectArchiveEntry(entries, { name: 'quay.io/kairos/core-opensuse:v1.4.0' }, 'X').entry.Config).toBe('a.json');
    expect(selectArchiveEntry(entries, { name: 'docker.io/library/busybox' }, 'X').entry.Config).toBe('b.json');
    expect(selectArchiveEntry(entries, { name: 'busybox:1' }, 'X').entry.Config).toBe('b.json');
    expect(selectArchiveEntry(entries, { index: 2 }, 'X').entry.Config).toBe('c.json');
    const only = selectArchiveEntry([entries[0] as (typeof entries)[0]], {}, 'X');
    expect(only.name?.repository).toBe('kairos/core-opensuse');
  });
  it('errors list what is there', () => {
    expect(() => selectArchiveEntry(entries, {}, 'X')).toThrow(/X holds 3 images: @0 \(quay.io\/kairos\/core-opensuse:v1.4.0\), @1 \(busybox:latest, busybox:1\), @2 \(no name\)/);
    expect(() => selectArchiveEntry(entries, { name: 'alpine:3' }, 'X')).toThrow(expect.objectContaining({ code: 'IMAGE_NOT_IN_SOURCE' }));
    expect(() => selectArchiveEntry(entries, { index: 3 }, 'X')).toThrow(/no image @3/);
    expect(() => selectArchiveEntry([], {}, 'X')).toThrow(expect.objectContaining({ code: 'IMAGE_NOT_IN_SOURCE' }));
  });
});

describe('selectLayoutEntries', () => {
  const d = (digest: string, name?: string, arch?: string) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${digest.repeat(64)}`, size: 1,
    ...(name === undefined ? {} : { annotations: { 'org.opencontainers.image.ref.name': name } }),
    ...(arch === undefined ? {} : { platform: { os: 'linux', architecture: arch } }),
  });
  const index = { schemaVersion: 2 as const, manifests: [d('a', 'v1'), d('b', 'kairos/ubuntu:T'), d('c', 'multi', 'amd64'), d('e', 'multi', 'arm64')] };
  it('selects by ref name; several entries of one name are kept for the platform choice', () => {
    expect(selectLayoutEntries(index, 'v1', 'L').map((e) => e.digest[7])).toEqual(['a']);
    expect(selectLayoutEntries(index, 'kairos/ubuntu:T', 'L').map((e) => e.digest[7])).toEqual(['b']);
    expect(selectLayoutEntries(index, 'multi', 'L')).toHaveLength(2);
    expect(selectLayoutEntries({ schemaVersion: 2, manifests: [d('a')] }, undefined, 'L')).toHaveLength(1);
  });
  it('a missing name lists the names; no name with several images is ambiguous', () => {
    expect(() => selectLayoutEntries(index, 'v2', 'L')).toThrow('L has no image named v2; it has v1, kairos/ubuntu:T, multi');
    expect(() => selectLayoutEntries(index, undefined, 'L')).toThrow(expect.objectContaining({ code: 'AMBIGUOUS_SOURCE' }));
  });
});

describe('synthesizeManifest', () => {
  it('writes Go\'s field order, as skopeo does', () => {
    const raw = synthesizeManifest({ mediaType: 'x', digest: 'sha256:c', size: 2 }, [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: 'sha256:l', size: 3 }]);
    expect(raw.toString()).toBe('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:c"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","size":3,"digest":"sha256:l"}]}');
  });
});

describe('tarFileView (members located by their headers alone)', () => {
  const pax = (records: Record<string, string>): Buffer => {
    const lines = Object.entries(records).map(([k, v]) => {
      const body = ` ${k}=${v}\n`;
      let len = body.length + 1;
      while (`${len}${body}`.length !== len) len = `${len}${body}`.length;
      return `${len}${body}`;
    });
    return Buffer.from(lines.join(''));
  };
  const end = Buffer.alloc(2 * BLOCK);

  it('finds plain, GNU long-name, PAX-path and linked members; reads ranges without reading the rest', async () => {
    const long = `${'d'.repeat(120)}/manifest.json`;
    const file = path.join(dir, 'crafted.tar');
    await writeFile(file, Buffer.concat([
      rawEntry({ name: './a.json', typeflag: '0' }, Buffer.from('{"a":1}')),
      rawEntry({ name: '././@LongLink', typeflag: 'L' }, Buffer.from(`${long}\0`)),
      rawEntry({ name: 'ignored-short-name', typeflag: '0' }, Buffer.from('long!')),
      rawEntry({ name: 'PaxHeaders/x', typeflag: 'x' }, pax({ path: 'blobs/sha256/ffff' })),
      rawEntry({ name: 'truncated-name', typeflag: '0' }, Buffer.alloc(1500, 7)),
      rawEntry({ name: 'dir/', typeflag: '5' }),
      rawEntry({ name: 'dir/layer.tar', typeflag: '2', linkname: '../a.json' }),
      rawEntry({ name: 'hard', typeflag: '1', linkname: 'a.json' }),
      end,
    ]));
    const view = await tarFileView(file, 'crafted');
    expect(await view.size('a.json')).toBe(7);
    expect((await view.read(long, 100)).toString()).toBe('long!');
    expect(await view.size('blobs/sha256/ffff')).toBe(1500);
    expect((await view.head('blobs/sha256/ffff', 3)).toString('hex')).toBe('070707');
    expect((await view.read('dir/layer.tar', 100)).toString()).toBe('{"a":1}');
    expect((await view.read('hard', 100)).toString()).toBe('{"a":1}');
    const chunks: Buffer[] = [];
    for await (const c of view.open('/blobs/sha256/ffff')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks)).toEqual(Buffer.alloc(1500, 7));
    expect(await view.size('missing')).toBeUndefined();
    await expect(view.read('a.json', 3)).rejects.toMatchObject({ code: 'BLOB_TOO_LARGE' });
    await view.close();
  });

  it('not a tar, an empty file, a cut archive and a damaged header are told apart', async () => {
    const text = path.join(dir, 'text.tar');
    await writeFile(text, 'hello world, this is not a tar file at all\n'.repeat(30));
    await expect(tarFileView(text, 'T')).rejects.toMatchObject({ code: 'NOT_AN_ARCHIVE', message: expect.stringContaining('starts with text "hello world') });
    const empty = path.join(dir, 'empty.tar');
    await writeFile(empty, '');
    await expect(tarFileView(empty, 'E')).rejects.toMatchObject({ code: 'NOT_AN_ARCHIVE', message: expect.stringContaining('it is empty') });
    const whole = Buffer.concat([rawEntry({ name: 'a', typeflag: '0' }, Buffer.alloc(2000, 1)), rawEntry({ name: 'b', typeflag: '0' }, Buffer.alloc(10, 2)), end]);
    const cut = path.join(dir, 'cut.tar');
    await writeFile(cut, whole.subarray(0, 1200));
    await expect(tarFileView(cut, 'C')).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', message: expect.stringContaining('truncated') });
    const damaged = Buffer.from(whole);
    damaged[2560 + 3] = 0x41; // the second header's name, checksum now wrong
    const dmg = path.join(dir, 'damaged.tar');
    await writeFile(dmg, damaged);
    await expect(tarFileView(dmg, 'D')).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', message: expect.stringContaining('offset 2560') });
  });

  it('normalizes member names as archives write them', () => {
    expect(normalizeMemberName('./blobs//sha256/x')).toBe('blobs/sha256/x');
    expect(normalizeMemberName('/manifest.json')).toBe('manifest.json');
    expect(normalizeMemberName('a/b/../c/')).toBe('a/c');
  });
});
