import { describe, expect, it } from 'vitest';
import { diffKeys, diffPackages, kernelVersions, packageList, parseApkInstalled, parseDpkgStatus, releaseKeysOf, RPM_NOTE } from '../../../src/policy/image-diff.js';

describe('package databases', () => {
  it('dpkg status: installed packages only, continuation lines, multi-arch names', () => {
    const status = [
      'Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nVersion: 2.39-0ubuntu8.3\nDescription: GNU C Library\n a continuation line\n .',
      'Package: libc6\nStatus: install ok installed\nArchitecture: i386\nVersion: 2.39-0ubuntu8.3',
      'Package: removed-one\nStatus: deinstall ok config-files\nVersion: 1.0',
      'Package: half\nStatus: install ok half-installed\nVersion: 2.0',
      'Package: vim-tiny\nStatus: install ok installed\nVersion: 2:9.1.0016-1ubuntu7.2',
    ].join('\n\n');
    expect(parseDpkgStatus(status)).toEqual({ 'libc6:amd64': '2.39-0ubuntu8.3', 'libc6:i386': '2.39-0ubuntu8.3', 'vim-tiny': '2:9.1.0016-1ubuntu7.2' });
  });
  it('apk installed: P: and V: of each record', () => {
    expect(parseApkInstalled('C:Q1abc=\nP:busybox\nV:1.37.0-r12\nA:x86_64\n\nP:musl\nV:1.2.5-r9\n\n')).toEqual({ busybox: '1.37.0-r12', musl: '1.2.5-r9' });
  });
  it('rpm is recognised, not read (no library reads rpm headers; the system rpm is no dependency)', () => {
    expect(packageList('rpm', '/var/lib/rpm/rpmdb.sqlite', 'SQLite format 3')).toEqual({ format: 'rpm', path: '/var/lib/rpm/rpmdb.sqlite', note: RPM_NOTE });
  });
  it('changes: added, removed, changed, unchanged', () => {
    expect(diffPackages({ a: '1', b: '1', c: '1' }, { a: '1', b: '2', d: '1' })).toEqual({
      added: [{ name: 'd', version: '1' }], removed: [{ name: 'c', version: '1' }], changed: [{ name: 'b', from: '1', to: '2' }], unchanged: 1,
    });
  });
});

describe('release keys, kernel', () => {
  it('/etc/kairos-release first, else the KAIROS_ keys appended to /etc/os-release, else the v1 file', () => {
    expect(releaseKeysOf({ kairosRelease: 'KAIROS_RELEASE="v3.2.4"\n', osRelease: 'ID=ubuntu\nKAIROS_RELEASE="v3.2.1"\n' })).toEqual({ file: '/etc/kairos-release', keys: { KAIROS_RELEASE: 'v3.2.4' } });
    expect(releaseKeysOf({ osRelease: 'ID=ubuntu\nKAIROS_RELEASE="v3.2.1"\n' })).toEqual({ file: '/etc/os-release', keys: { KAIROS_RELEASE: 'v3.2.1' } });
    expect(releaseKeysOf({ osRelease: 'ID="kairos"\nVERSION="v1.5.1"\n' })?.keys).toMatchObject({ ID: 'kairos', VERSION: 'v1.5.1' });
    expect(releaseKeysOf({ osRelease: 'ID=ubuntu\n' })).toBeUndefined();
    expect(diffKeys({ A: '1', B: '2' }, { B: '3', C: '4' })).toEqual([{ key: 'A', from: '1' }, { key: 'B', from: '2', to: '3' }, { key: 'C', to: '4' }]);
  });
  it('kernel versions from the modules directories, else the /boot link', () => {
    expect(kernelVersions(['6.8.0-49-generic', '6.8.0-45-generic'], 'vmlinuz-6.8.0-49-generic')).toEqual(['6.8.0-45-generic', '6.8.0-49-generic']);
    expect(kernelVersions([], 'vmlinuz-6.4.0-150600.23.25-default')).toEqual(['6.4.0-150600.23.25-default']);
    expect(kernelVersions([], '/boot/Image-6.1.0-rpi')).toEqual(['6.1.0-rpi']);
    expect(kernelVersions([], undefined)).toEqual([]);
  });
});
