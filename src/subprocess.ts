/**
 * execa, loaded on first use: importing it costs about 70 ms and 8 MB at start-up, and most runs
 * never start a program (only credential helpers, zstd/xz, mknod/setfattr and luet do).
 */
import type * as ExecaModule from 'execa';

type Execa = typeof ExecaModule;

let loading: Promise<Execa> | undefined;

export function loadExeca(): Promise<Execa> {
  loading ??= import('execa');
  return loading;
}
