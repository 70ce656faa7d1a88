/**
 * The luet path: `luet util unpack` (or its container) writes the artifact image's filesystem into
 * a private directory inside --out; the artifact files are then taken from it by the same rules
 * and through the same verifying sink as the native stream, and the directory is removed.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import path from 'node:path';
import { luetUnpack, type LuetEngine } from '../engine/luet.js';
import { classifyEntry, describeSkip, type EntryType, type SkipReason } from './artifact-entries.js';
import { createArtifactSink, type ArtifactFile, type ArtifactSinkOptions } from './artifact-sink.js';

export interface ExtractViaLuetOptions {
  /** What luet pulls (pin it by digest: it should fetch what was resolved). */
  image: string;
  label: string;
  outDir: string;
  decompress?: boolean | undefined;
  platform?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
  engine?: LuetEngine | undefined;
  warn?: ((line: string) => void) | undefined;
  beforeCommit?: ArtifactSinkOptions['beforeCommit'];
  log?: ((line: string) => void) | undefined;
}

export interface ExtractViaLuetResult {
  engine: LuetEngine;
  command: string[];
  files: ArtifactFile[];
  skipped: number;
}

function typeOf(st: Stats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  return 'other';
}

/** Root entries and `build/` entries of the unpacked tree, as tar-like relative names. */
async function candidates(root: string): Promise<Array<{ name: string; abs: string; type: EntryType }>> {
  const out: Array<{ name: string; abs: string; type: EntryType }> = [];
  for (const entry of (await fsp.readdir(root)).sort()) {
    const abs = path.join(root, entry);
    const st = await fsp.lstat(abs);
    if (entry === 'build' && st.isDirectory()) {
      for (const inner of (await fsp.readdir(abs)).sort()) {
        const innerAbs = path.join(abs, inner);
        out.push({ name: `build/${inner}`, abs: innerAbs, type: typeOf(await fsp.lstat(innerAbs)) });
      }
      continue;
    }
    out.push({ name: entry, abs, type: typeOf(st) });
  }
  return out;
}

export async function extractViaLuet(opts: ExtractViaLuetOptions): Promise<ExtractViaLuetResult> {
  const outDir = path.resolve(opts.outDir);
  const sink = await createArtifactSink({ outDir, decompress: opts.decompress, signal: opts.signal, label: opts.label, warn: opts.warn, beforeCommit: opts.beforeCommit });
  const work = path.join(outDir, `.kairos-img-luet-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(work, { mode: 0o700 });
  try {
    const ran = await luetUnpack({ image: opts.image, dir: work, platform: opts.platform, env: opts.env, signal: opts.signal, engine: opts.engine, log: opts.log });
    const skipped = new Map<SkipReason, { n: number; example: string }>();
    for (const c of await candidates(work)) {
      const decision = classifyEntry(c.name, c.type);
      if (decision.kind === 'file') {
        // lstat said regular file; O_NOFOLLOW keeps it so if the tree changes under us.
        const fh = await fsp.open(c.abs, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
        await sink.addFile(decision.name, fh.createReadStream({ highWaterMark: 1024 * 1024 }));
      } else if (decision.warn) {
        const s = skipped.get(decision.reason) ?? { n: 0, example: c.name };
        s.n++;
        skipped.set(decision.reason, s);
      }
    }
    for (const [reason, s] of skipped) opts.warn?.(`${opts.label}: skipped ${s.n} ${s.n === 1 ? 'entry' : 'entries'}: ${describeSkip(reason)} (e.g. "${s.example}")`);
    const files = await sink.finish();
    return { engine: ran.engine, command: ran.command, files, skipped: [...skipped.values()].reduce((a, s) => a + s.n, 0) };
  } catch (e) {
    await fsp.rm(work, { recursive: true, force: true });
    await sink.discard();
    throw e;
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}
