/**
 * `unpack --via docker` and `unpack --via luet`: the same result as the native unpack, produced by
 * another engine, for parity with the workflows Kairos documents. The Docker engine pulls the image
 * itself and its container export goes through the native safe, atomic writer; luet writes into a
 * staged sibling directory that is renamed into place only when it succeeded.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { formatReference } from '../reference/reference.js';
import { dockerConfigCredentials } from '../registry/index.js';
import { formatPlatform } from '../oci/index.js';
import { connectDocker, pullIntoEngine, unpackViaDocker } from '../engine/docker.js';
import { luetUnpack } from '../engine/luet.js';
import { checkTarget, stageDir, type UnpackReport } from '../unpack/index.js';
import { isCatalogName, lazyClient, resolveTarget, type ImageSpec, type OperationOptions } from './common.js';
import { emitter, type UnpackViaEvent } from './events.js';
import { resolutionFacts } from './resolve.js';
import type { UnpackSummary } from './unpack.js';

export type UnpackEngine = 'docker' | 'luet';

export interface UnpackViaOptions extends OperationOptions<UnpackViaEvent> {
  image: ImageSpec;
  dir: string;
  via: UnpackEngine;
  force?: boolean | undefined;
}

/** Counts what another engine wrote (luet reports nothing back). */
async function countTree(root: string): Promise<UnpackReport> {
  const report: UnpackReport = { dir: root, layers: 0, entries: 0, files: 0, dirs: 0, symlinks: 0, hardlinks: 0, whiteouts: 0, bytes: 0, skipped: { owners: 0, devices: 0, xattrs: 0 }, warnings: [] };
  const seen = new Set<number>();
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const p = path.join(dir, name);
      const st = await lstat(p);
      report.entries++;
      if (st.isDirectory()) {
        report.dirs++;
        await walk(p);
      } else if (st.isSymbolicLink()) report.symlinks++;
      else if (st.isFile()) {
        if (st.nlink > 1 && seen.has(st.ino)) report.hardlinks++;
        else {
          report.files++;
          report.bytes += st.size;
          if (st.nlink > 1) seen.add(st.ino);
        }
      }
    }
  };
  await walk(root);
  return report;
}

/** Unpacks an image's root filesystem into `dir` through the Docker engine or luet. */
export async function unpackVia(opts: UnpackViaOptions): Promise<UnpackSummary> {
  const emit = emitter(opts.onEvent);
  const { signal } = opts;
  const env = opts.env ?? process.env;
  await checkTarget({ dir: opts.dir, force: opts.force });
  const client = lazyClient(opts, emit);
  const target = await resolveTarget({ ...opts, tags: isCatalogName(opts.image) ? client.tags() : undefined, emit });
  const ref = target.reference;
  const platform = `${target.platform.os}/${target.platform.architecture}`;
  emit({ type: 'via-start', engine: opts.via });
  let report: UnpackReport;
  let engine: { name: UnpackEngine; detail: string; digest?: string | undefined };
  if (opts.via === 'docker') {
    const { docker, address } = await connectDocker({ env, signal });
    const pulled = await pullIntoEngine({ docker, reference: ref, platform, credentials: dockerConfigCredentials({ env }), plainHttp: opts.plainHttp, signal });
    report = await unpackViaDocker({
      docker, reference: pulled.imageId, platform, signal, dir: opts.dir, force: opts.force,
      onProgress: (e) => emit({ type: 'via-progress', entries: e.entries, bytes: e.bytes }),
    });
    engine = { name: 'docker', detail: `${address.display} (image ${pulled.imageId.slice(0, 19)}…)`, digest: pulled.digest };
    emit({ type: 'via-done', engine: 'docker', entries: report.entries, inEngine: true });
  } else {
    const staged = await stageDir({ dir: opts.dir, force: opts.force });
    try {
      const r = await luetUnpack({ image: formatReference(ref), dir: staged.temp, platform, env, signal, log: (message) => emit({ type: 'log', message }) });
      const counted = await countTree(staged.temp);
      await staged.commit();
      report = { ...counted, dir: staged.dir };
      engine = { name: 'luet', detail: r.command.join(' ') };
      emit({ type: 'via-done', engine: 'luet', entries: report.entries, inEngine: r.engine !== 'luet' });
    } catch (e) {
      await staged.discard();
      throw e;
    }
  }
  return {
    ...report,
    reference: formatReference(ref),
    digest: engine.digest ?? null,
    via: engine.name,
    engine: engine.detail,
    platform: formatPlatform(target.platform),
    fromCache: false,
    resolution: target.resolution === undefined ? undefined : resolutionFacts(target.resolution),
  };
}
