// Every unsafe-path case of docs/unpack-rules.md, one crafted layer each. Each test puts a sentinel file in a
// directory next to the target and asserts it (and that directory) is untouched and nothing else
// appeared outside; the write is either contained in the root or refused with a clear error.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KairosImgError } from '../../../src/errors.js';
import { unpackImage, type LayerInput } from '../../../src/unpack/index.js';
import { gnuLongName, layerOf, paxEntry, rawEntry, rawTar, sandbox, tarOf, type Entry, type Sandbox } from '../../helpers/layers.js';

const TAR = 'application/vnd.oci.image.layer.v1.tar';
let sb: Sandbox;

beforeEach(async () => {
  sb = await sandbox();
});
afterEach(async () => {
  await sb.cleanup();
});

async function layers(...specs: Array<Entry[] | Buffer>): Promise<LayerInput[]> {
  const out: LayerInput[] = [];
  for (const s of specs) out.push(layerOf(Buffer.isBuffer(s) ? s : await tarOf(s), TAR));
  return out;
}

async function unpack(...specs: Array<Entry[] | Buffer>) {
  return unpackImage({ dir: sb.root, layers: await layers(...specs), force: true });
}

async function expectRefused(p: Promise<unknown>, code: string): Promise<KairosImgError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(KairosImgError);
  expect((e as KairosImgError).code).toBe(code);
  return e as KairosImgError;
}

const read = (p: string) => fs.readFileSync(p, 'utf8');
const file = (path: string, content = 'pwned\n'): Entry => ({ path, type: 'file', content, raw: true });
const symlink = (path: string, linkname: string): Entry => ({ path, type: 'symlink', linkname, raw: true });
const hardlink = (path: string, linkname: string): Entry => ({ path, type: 'hardlink', linkname, raw: true });
const dir = (path: string, mode = 0o755): Entry => ({ path, type: 'dir', mode, raw: true });

describe('names that climb out', () => {
  it('`../` is contained in the root', async () => {
    const r = await unpack([file('../outside/sentinel'), file('a/../../../../outside/x')]);
    expect(read(join(sb.root, 'outside/sentinel'))).toBe('pwned\n');
    expect(read(join(sb.root, 'outside/x'))).toBe('pwned\n');
    expect(r.warnings.join('\n')).toMatch(/outside the root/);
    await sb.assertOutsideUntouched();
  });

  it('absolute names are relative to the root', async () => {
    await unpack([file(`${sb.outside}/sentinel`), file('/etc/kimg-test-absolute')]);
    expect(read(join(sb.root, sb.outside, 'sentinel'))).toBe('pwned\n');
    expect(fs.existsSync('/etc/kimg-test-absolute')).toBe(false);
    expect(read(join(sb.root, 'etc/kimg-test-absolute'))).toBe('pwned\n');
    await sb.assertOutsideUntouched();
  });

  it('GNU long names and PAX paths get the same treatment', async () => {
    const long = `${'d/'.repeat(60)}../`.repeat(1) + '../'.repeat(70) + 'outside/sentinel';
    await unpack(
      rawTar(
        gnuLongName(long, { name: 'x', typeflag: '0' }, Buffer.from('gnu\n')),
        paxEntry({ path: '../../outside/pax' }, { name: 'x2', typeflag: '0' }, Buffer.from('pax\n')),
      ),
    );
    expect(read(join(sb.root, 'outside/sentinel'))).toBe('gnu\n');
    expect(read(join(sb.root, 'outside/pax'))).toBe('pax\n');
    await sb.assertOutsideUntouched();
  });
});

describe('symlinks', () => {
  it('a symlink in the same layer, then a file through it (relative and absolute targets)', async () => {
    await unpack([
      symlink('rel', '../outside'),
      file('rel/sentinel'),
      symlink('abs', sb.outside),
      file('abs/sentinel'),
      symlink('deep', '../../../../../../../..'),
      file(`deep/${sb.outside}/sentinel`),
    ]);
    expect(read(join(sb.root, 'outside/sentinel'))).toBe('pwned\n');
    expect(read(join(sb.root, sb.outside, 'sentinel'))).toBe('pwned\n');
    expect(fs.readlinkSync(join(sb.root, 'rel'))).toBe('../outside');
    await sb.assertOutsideUntouched();
  });

  it('a symlink from an earlier layer pointing outside (absolute and relative)', async () => {
    await unpack(
      [symlink('rel', '../outside'), symlink('abs', sb.outside), symlink('sys', '/etc')],
      [file('rel/sentinel'), file('abs/sentinel'), file('sys/kimg-test-through-link'), dir('abs/sub/')],
    );
    expect(fs.existsSync('/etc/kimg-test-through-link')).toBe(false);
    expect(read(join(sb.root, 'etc/kimg-test-through-link'))).toBe('pwned\n');
    expect(read(join(sb.root, 'outside/sentinel'))).toBe('pwned\n');
    expect(read(join(sb.root, sb.outside, 'sentinel'))).toBe('pwned\n');
    expect(fs.lstatSync(join(sb.root, sb.outside, 'sub')).isDirectory()).toBe(true);
    await sb.assertOutsideUntouched();
  });

  it('a file entry over a symlink replaces the symlink instead of writing through it', async () => {
    await unpack([symlink('s', '../outside/sentinel'), symlink('t', `${sb.outside}/sentinel`)], [file('s'), file('t')]);
    expect(fs.lstatSync(join(sb.root, 's')).isFile()).toBe(true);
    expect(fs.lstatSync(join(sb.root, 't')).isFile()).toBe(true);
    await sb.assertOutsideUntouched();
  });

  it('a symlink replacing a directory, then writes under it (same layer and next layer)', async () => {
    await unpack(
      [dir('d/'), file('d/keep', 'lower\n'), dir('e/')],
      [symlink('d', sb.outside), file('d/sentinel'), dir('e/', 0o700), symlink('e', '../outside'), dir('e/', 0o700), file('e/sentinel')],
    );
    expect(fs.readlinkSync(join(sb.root, 'd'))).toBe(sb.outside);
    expect(read(join(sb.root, sb.outside, 'sentinel'))).toBe('pwned\n');
    expect(fs.lstatSync(join(sb.root, 'e')).isDirectory()).toBe(true);
    expect(fs.statSync(join(sb.root, 'e')).mode & 0o777).toBe(0o700);
    expect(read(join(sb.root, 'e/sentinel'))).toBe('pwned\n');
    await sb.assertOutsideUntouched();
  });

  it('node-tar CVE-2021-32803: a directory and a symlink with the same name', async () => {
    await unpack([dir('a/'), symlink('a', '../outside'), dir('a/', 0o777), file('a/sentinel'), dir('b/'), symlink('b', sb.outside), file('b/c/sentinel')]);
    expect(fs.lstatSync(join(sb.root, 'a')).isDirectory()).toBe(true);
    expect(read(join(sb.root, 'a/sentinel'))).toBe('pwned\n');
    expect(read(join(sb.root, sb.outside, 'c/sentinel'))).toBe('pwned\n');
    await sb.assertOutsideUntouched();
  });

  it('node-tar CVE-2021-37701/37712: Unicode and case variants and backslashes do not reuse a stale directory', async () => {
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    await unpack([
      dir(`${nfc}/`),
      symlink(nfd, '../outside'),
      file(`${nfc}/x`),
      file(`${nfd}/sentinel`),
      dir('Up/'),
      symlink('up', sb.outside),
      file('Up/x'),
      file('up/sentinel'),
      symlink('a\\b', '../outside'),
      file('a\\b/sentinel'),
    ]);
    expect(read(join(sb.root, nfc, 'x'))).toBe('pwned\n');
    expect(read(join(sb.root, 'outside/sentinel'))).toBe('pwned\n');
    expect(read(join(sb.root, 'Up/x'))).toBe('pwned\n');
    expect(read(join(sb.root, sb.outside, 'sentinel'))).toBe('pwned\n');
    await sb.assertOutsideUntouched();
  });

  it('names with a NUL byte are refused (PAX) or cut at the NUL (ustar field)', async () => {
    await expectRefused(unpack(rawTar(paxEntry({ path: 'a\u0000/../../outside/sentinel' }, { name: 'x', typeflag: '0' }, Buffer.from('nul\n')))), 'UNPACK_BAD_ENTRY');
    await sb.assertOutsideUntouched();
    await unpack(rawTar(rawEntry({ name: Buffer.from('a/\u0000../../outside/sentinel'), typeflag: '5' })));
    expect(fs.lstatSync(join(sb.root, 'a')).isDirectory()).toBe(true);
    await sb.assertOutsideUntouched();
  });

  it('a symlink loop fails clearly and leaves nothing behind', async () => {
    await expectRefused(unpack([symlink('l1', 'l2'), symlink('l2', 'l1'), file('l1/x')]), 'UNPACK_SYMLINK_LOOP');
    // `etc -> /etc` inside the root is a loop, as it is in a chroot — never the host's /etc.
    await expectRefused(unpack([symlink('etc', '/etc'), file('etc/kimg-loop-test')]), 'UNPACK_SYMLINK_LOOP');
    expect(fs.existsSync('/etc/kimg-loop-test')).toBe(false);
    expect(fs.readdirSync(sb.root)).toEqual([]);
    await sb.assertOutsideUntouched();
  });
});

describe('hardlinks', () => {
  it('to /etc/passwd: resolved inside the root, refused when missing there', async () => {
    const nlink = fs.statSync('/etc/passwd').nlink;
    const e = await expectRefused(unpack([hardlink('p', '/etc/passwd')]), 'UNPACK_BAD_ENTRY');
    expect(e.message).toMatch(/does not exist/);
    expect(fs.statSync('/etc/passwd').nlink).toBe(nlink);
    await sb.assertOutsideUntouched();
  });

  it('to ../outside, directly and through a symlink of an earlier layer', async () => {
    await expectRefused(unpack([hardlink('h', '../outside/sentinel')]), 'UNPACK_BAD_ENTRY');
    await expectRefused(unpack([symlink('l', '../outside')], [hardlink('h', 'l/sentinel')]), 'UNPACK_BAD_ENTRY');
    await expectRefused(unpack([symlink('l', sb.outside)], [hardlink('h', `l/sentinel`)]), 'UNPACK_BAD_ENTRY');
    await sb.assertOutsideUntouched();
  });

  it('to a symlink pointing outside links the symlink itself, never its target', async () => {
    await unpack([symlink('s', `${sb.outside}/sentinel`), hardlink('h', 's')]);
    expect(fs.lstatSync(join(sb.root, 'h')).isSymbolicLink()).toBe(true);
    expect(fs.lstatSync(join(sb.root, 'h')).ino).toBe(fs.lstatSync(join(sb.root, 's')).ino);
    await sb.assertOutsideUntouched();
  });

  it('a hardlink placed through a symlinked parent lands inside', async () => {
    await unpack([file('t', 'inside\n'), symlink('l', '../outside'), hardlink('l/sentinel', 't')]);
    expect(read(join(sb.root, 'outside/sentinel'))).toBe('inside\n');
    await sb.assertOutsideUntouched();
  });

  it('to a directory is refused', async () => {
    await expectRefused(unpack([dir('d/'), hardlink('h', 'd')]), 'UNPACK_BAD_ENTRY');
    await sb.assertOutsideUntouched();
  });
});

describe('whiteouts', () => {
  it('`../.wh.x` and absolute whiteouts stay inside', async () => {
    await unpack([file('outside/keep', 'k\n')], [file('../.wh.outside', ''), file(`${sb.base}/.wh.outside`, ''), file('../outside/.wh.sentinel', '')]);
    expect(fs.existsSync(join(sb.root, 'outside'))).toBe(false);
    await sb.assertOutsideUntouched();
  });

  it('through a symlink of an earlier layer (relative, absolute) and opaque markers through symlinks', async () => {
    await unpack(
      [symlink('rel', '../outside'), symlink('abs', sb.outside), dir('outside/'), file('outside/sentinel', 'inner\n')],
      [file('rel/.wh.sentinel', ''), file('abs/.wh.sentinel', ''), file('abs/.wh..wh..opq', ''), file('rel/.wh..wh..opq', '')],
    );
    // `rel/.wh.sentinel` resolved to <root>/outside/sentinel, which it removed; nothing outside moved.
    expect(fs.existsSync(join(sb.root, 'outside/sentinel'))).toBe(false);
    expect(fs.readlinkSync(join(sb.root, 'rel'))).toBe('../outside');
    await sb.assertOutsideUntouched();
  });

  it('a whiteout of a symlink removes the link, not what it points to', async () => {
    await unpack([dir('real/'), file('real/f', 'x\n'), symlink('link', 'real'), symlink('out', sb.outside)], [file('.wh.link', ''), file('.wh.out', '')]);
    expect(fs.existsSync(join(sb.root, 'link'))).toBe(false);
    expect(read(join(sb.root, 'real/f'))).toBe('x\n');
    await sb.assertOutsideUntouched();
  });
});

describe('other entry types', () => {
  it('device nodes and fifos with escaping names are contained', async () => {
    await unpack([
      { path: '../outside/dev', type: 'char', devmajor: 1, devminor: 3, raw: true },
      { path: '../outside/fifo', type: 'fifo', raw: true },
    ]);
    expect(fs.lstatSync(join(sb.root, 'outside/fifo')).isFIFO()).toBe(true);
    await sb.assertOutsideUntouched();
  });

  it('a directory entry over a symlink to outside does not chmod the outside', async () => {
    await unpack([symlink('s', sb.outside)], [dir('s/', 0o700)]);
    expect(fs.lstatSync(join(sb.root, 's')).isDirectory()).toBe(true);
    await sb.assertOutsideUntouched();
  });
});

describe('the target directory itself', () => {
  it('an unpack into a directory whose sibling is a symlink is unaffected by it', async () => {
    await fsp.symlink(sb.outside, join(sb.base, 'link-to-outside'));
    await unpack([file('../link-to-outside/sentinel')]);
    expect(read(join(sb.root, 'link-to-outside/sentinel'))).toBe('pwned\n');
    await fsp.rm(join(sb.base, 'link-to-outside'));
    await sb.assertOutsideUntouched();
  });
});
