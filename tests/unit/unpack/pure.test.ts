import { describe, expect, it } from 'vitest';
import { aliasKey, ancestorsOf, displayName, isWithin, nameProblem, nameTooLong, normalizeEntryName, parentOf, toBytes } from '../../../src/unpack/entry-path.js';
import { childSurvivesOpaque, entryMeta, isPrivilegedXattr, placementFor, whiteoutAction } from '../../../src/unpack/entry-semantics.js';
import { entryKindOf } from '../../../src/unpack/tar-header.js';
import { checkFormat, compressionOfMediaType, detectFormat } from '../../../src/unpack/layer-format.js';
import { MAX_SYMLINKS, resolveInRoot, type NodeInfo } from '../../../src/unpack/resolve-in-root.js';
import { classifyWhiteout } from '../../../src/unpack/whiteout.js';
import { KairosImgError } from '../../../src/errors.js';

describe('normalizeEntryName', () => {
  it.each([
    ['a/b', 'a/b', false],
    ['./a/b', 'a/b', false],
    ['a//b///c', 'a/b/c', false],
    ['a/./b/', 'a/b', false],
    ['./', '', false],
    ['.', '', false],
    ['a/../b', 'b', false],
    ['a/b/../../c', 'c', false],
    ['../x', 'x', true],
    ['../../../etc/passwd', 'etc/passwd', true],
    ['a/../../x', 'x', true],
    ['/etc/passwd', 'etc/passwd', true],
    ['//abs', 'abs', true],
    ['/', '', true],
    ['..', '', true],
    ['héllo/wörld/日本', 'héllo/wörld/日本', false],
    ['a/..b/c..', 'a/..b/c..', false],
  ])('%j → %j (contained %s)', (name, path, contained) => {
    expect(normalizeEntryName(name)).toEqual({ path, contained });
  });

  it('reports empty names and NUL bytes as problems', () => {
    expect(nameProblem('')).toBe('empty');
    expect(nameProblem('a/\u0000')).toBe('nul-byte');
    expect(nameProblem('a\u0000/../../x')).toBe('nul-byte');
    expect(nameProblem('ok')).toBeUndefined();
  });

  it('displays byte names: UTF-8 as text, other bytes and controls as \\xNN, long ones cut', () => {
    expect(displayName(toBytes('日本/café'))).toBe('日本/café');
    expect(displayName('col-\xfe\xfd')).toBe('col-\\xfe\\xfd');
    expect(displayName('a\u0000b\u001b')).toBe('a\\x00b\\x1b');
    expect(displayName('\xc0\xaf')).toBe('\\xc0\\xaf'); // overlong '/'
    expect(displayName('\xed\xa0\x80')).toBe('\\xed\\xa0\\x80'); // a surrogate
    const long = displayName('x'.repeat(1_000_000));
    expect(long).toBe(`${'x'.repeat(200)}…`);
  });

  it('names too long for Linux', () => {
    expect(nameTooLong(`${'a'.repeat(255)}/b`, '/r')).toBe(false);
    expect(nameTooLong(`${'a'.repeat(256)}/b`, '/r')).toBe(true);
    expect(nameTooLong('a/'.repeat(2047), '/r')).toBe(true);
    expect(nameTooLong('a/'.repeat(2000), '/r')).toBe(false);
  });

  it('path helpers', () => {
    expect(parentOf('a/b/c')).toBe('a/b');
    expect(parentOf('a')).toBe('');
    expect(ancestorsOf('a/b/c')).toEqual(['a', 'a/b']);
    expect(ancestorsOf('a')).toEqual([]);
    expect(isWithin('a/b', 'a')).toBe(true);
    expect(isWithin('a', 'a')).toBe(true);
    expect(isWithin('ab', 'a')).toBe(false);
    expect(isWithin('x', '')).toBe(true);
  });

  it('aliasKey folds case and Unicode normalisation (of names as bytes, decoded as UTF-8)', () => {
    expect(aliasKey('ETC/Foo')).toBe(aliasKey('etc/foo'));
    expect(aliasKey(toBytes('caf\u00e9'))).toBe(aliasKey(toBytes('cafe\u0301')));
    expect(aliasKey(toBytes('\u212a'))).toBe(aliasKey('k')); // Kelvin sign
    expect(aliasKey('a')).not.toBe(aliasKey('b'));
  });
});

describe('classifyWhiteout', () => {
  it.each([
    ['a/b', { kind: 'none' }],
    ['a/.wh.b', { kind: 'whiteout', target: 'a/b' }],
    ['.wh.b', { kind: 'whiteout', target: 'b' }],
    ['a/.wh..wh..opq', { kind: 'opaque', dir: 'a' }],
    ['.wh..wh..opq', { kind: 'opaque', dir: '' }],
    ['a/.wh..wh.plnk', { kind: 'ignored', reason: 'AUFS metadata entry' }],
    ['a/.wh..wh.aufs', { kind: 'ignored', reason: 'AUFS metadata entry' }],
    ['a/.wh.', { kind: 'ignored', reason: 'whiteout naming no entry' }],
    ['a/.wh..', { kind: 'ignored', reason: 'whiteout naming no entry' }],
    ['a/.wh...', { kind: 'ignored', reason: 'whiteout naming no entry' }],
    ['a/.wh.x/y', { kind: 'none' }],
    ['a/x.wh.y', { kind: 'none' }],
  ])('%j', (path, expected) => {
    expect(classifyWhiteout(path)).toEqual(expected);
  });
});

describe('entry semantics', () => {
  it('maps tar types', () => {
    expect(entryKindOf('0')).toBe('file');
    expect(entryKindOf('7')).toBe('file');
    expect(entryKindOf('\u0000')).toBe('file');
    expect(entryKindOf('\u0000', 'old-dir/')).toBe('dir');
    expect(entryKindOf('0', 'bsd-dir/')).toBe('dir');
    expect(entryKindOf('5')).toBe('dir');
    expect(entryKindOf('1')).toBe('hardlink');
    expect(entryKindOf('2')).toBe('symlink');
    expect(entryKindOf('3')).toBe('char-device');
    expect(entryKindOf('4')).toBe('block-device');
    expect(entryKindOf('6')).toBe('fifo');
    expect(entryKindOf('L')).toBeUndefined();
    // Unknown types are never files (GNU tar would write them as files).
    expect(entryKindOf('Q')).toBeUndefined();
    expect(entryKindOf('V')).toBeUndefined();
  });

  it('placement: dir over dir merges, anything else over something replaces', () => {
    expect(placementFor('none', 'file')).toBe('create');
    expect(placementFor('dir', 'dir')).toBe('merge-dir');
    expect(placementFor('dir', 'file')).toBe('replace');
    expect(placementFor('dir', 'symlink')).toBe('replace');
    expect(placementFor('other', 'dir')).toBe('replace');
    expect(placementFor('other', 'file')).toBe('replace');
    expect(placementFor('other', 'hardlink')).toBe('replace');
  });

  it('metadata: modes with special bits, PAX ids and times, xattrs', () => {
    const pax = new Map(Object.entries({ uid: '3000000', mtime: '1234.5', 'SCHILY.xattr.user.k': 'v', 'SCHILY.xattr.security.capability': 'c', comment: 'x' }).map(([k, v]) => [k, Buffer.from(v)]));
    const m = entryMeta({ mode: 0o104755, uid: 1, gid: 2, mtime: 1000, pax }, 'file');
    expect(m.mode).toBe(0o4755);
    expect(m.uid).toBe(3000000);
    expect(m.gid).toBe(2);
    expect(m.mtime).toBe(1234.5);
    expect(m.atime).toBe(1234.5);
    expect(m.xattrs).toEqual([
      { name: 'user.k', value: Buffer.from('v') },
      { name: 'security.capability', value: Buffer.from('c') },
    ]);
    expect(entryMeta({}, 'dir').mode).toBe(0o755);
    expect(entryMeta({ mode: 0o1777 }, 'dir').mode).toBe(0o1777);
    expect(isPrivilegedXattr('user.k')).toBe(false);
    expect(isPrivilegedXattr('security.capability')).toBe(true);
    expect(isPrivilegedXattr('trusted.x')).toBe(true);
  });

  it('whiteouts only hide lower layers', () => {
    const layer = new Set(['d', 'd/new']);
    expect(whiteoutAction('x', 'other', layer)).toBe('remove');
    expect(whiteoutAction('x', 'dir', layer)).toBe('remove');
    expect(whiteoutAction('x', 'none', layer)).toBe('keep');
    expect(whiteoutAction('d', 'dir', layer)).toBe('clear-lower-content');
    expect(whiteoutAction('d/new', 'other', layer)).toBe('keep');
    expect(childSurvivesOpaque('d/new', layer)).toBe(true);
    expect(childSurvivesOpaque('d/old', layer)).toBe(false);
  });
});

describe('layer formats', () => {
  it('maps media types to compression', () => {
    expect(compressionOfMediaType('application/vnd.oci.image.layer.v1.tar')).toBe('none');
    expect(compressionOfMediaType('application/vnd.oci.image.layer.v1.tar+gzip')).toBe('gzip');
    expect(compressionOfMediaType('application/vnd.oci.image.layer.v1.tar+zstd')).toBe('zstd');
    expect(compressionOfMediaType('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip')).toBe('gzip');
    expect(compressionOfMediaType('application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe('gzip');
    expect(() => compressionOfMediaType('application/vnd.oci.image.config.v1+json')).toThrow(/unsupported layer media type/);
  });

  it('detects magic bytes', () => {
    expect(detectFormat(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(detectFormat(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0]))).toBe('zstd');
    expect(detectFormat(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toBe('xz');
    expect(detectFormat(Buffer.from('BZh91AY'))).toBe('bzip2');
    expect(detectFormat(Buffer.from('etc/passwd\0\0'))).toBe('none');
    expect(detectFormat(Buffer.alloc(0))).toBe('none');
  });

  it('rejects a mismatch with a verification error naming both', () => {
    expect(checkFormat('gzip', 'gzip', 'l')).toBe('gzip');
    expect(checkFormat('auto', 'zstd', 'l')).toBe('zstd');
    const e = (() => {
      try {
        checkFormat('gzip', 'zstd', 'layer sha256:ab');
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(KairosImgError);
    expect((e as KairosImgError).code).toBe('UNPACK_LAYER_FORMAT_MISMATCH');
    expect((e as KairosImgError).kind).toBe('operational');
    expect((e as KairosImgError).message).toBe('layer sha256:ab: expected gzip but its content is zstd');
    expect(() => checkFormat('none', 'gzip', 'l')).toThrow(/expected an uncompressed tar but its content is gzip/);
    expect(() => checkFormat('auto', 'xz', 'l')).toThrow(/content is xz/);
  });
});

describe('resolveInRoot (securejoin semantics over a fake tree)', () => {
  // A tree as a map: dirs, files ('other') and symlinks with targets.
  const tree = (spec: Record<string, string>) => (p: string): NodeInfo => {
    const v = spec[p];
    if (v === undefined) return { type: 'missing' };
    if (v === 'dir') return { type: 'dir' };
    if (v === 'file') return { type: 'other' };
    return { type: 'symlink', target: v.slice(3) }; // 'ln:<target>'
  };
  const fs1 = tree({
    etc: 'dir',
    'etc/passwd': 'file',
    usr: 'dir',
    'usr/lib': 'dir',
    lib: 'ln:usr/lib',
    abs: 'ln:/etc',
    up: 'ln:../../../../etc',
    dotdot: 'ln:..',
    loop1: 'ln:loop2',
    loop2: 'ln:loop1',
    chain: 'ln:lib/../../../etc',
    'usr/lib/rel': 'ln:../../etc',
    dangling: 'ln:/nowhere/deep',
  });

  it.each([
    ['etc/passwd', 'etc/passwd', 'other'],
    ['lib/x', 'usr/lib/x', 'missing'],
    ['lib', 'usr/lib', 'dir'],
    ['abs/passwd', 'etc/passwd', 'other'],
    ['up/passwd', 'etc/passwd', 'other'],
    ['dotdot/dotdot/etc', 'etc', 'dir'],
    ['chain', 'etc', 'dir'],
    ['lib/rel/passwd', 'etc/passwd', 'other'],
    ['dangling/x', 'nowhere/deep/x', 'missing'],
    ['missing/../etc', 'etc', 'dir'],
    ['etc/passwd/x', 'etc/passwd/x', 'missing'],
    ['', '', 'dir'],
    ['../../..', '', 'dir'],
  ])('%j → %j', (input, path, type) => {
    const r = resolveInRoot(input, fs1);
    expect(r.path).toBe(path);
    expect(r.info.type).toBe(type);
  });

  it('stops symlink loops', () => {
    expect(() => resolveInRoot('loop1/x', fs1)).toThrow(/too many levels of symbolic links/);
    expect(MAX_SYMLINKS).toBeGreaterThan(40);
  });
});
