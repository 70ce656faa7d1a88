/**
 * `unpack --via docker` and `unpack --via luet`: the same result as the native unpack, produced by
 * another engine, for parity with the workflows Kairos documents. The Docker engine pulls the image
 * itself and its container export goes through the native safe, atomic writer; luet writes into a
 * staged sibling directory that is renamed into place only when it succeeded.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ListrTask } from 'listr2';
import { formatReference } from '../reference/reference.js';
import { dockerConfigCredentials } from '../registry/index.js';
import { connectDocker, pullIntoEngine, unpackViaDocker } from '../engine/docker.js';
import { luetUnpack } from '../engine/luet.js';
import { checkTarget, stageDir, type UnpackReport } from '../unpack/index.js';
import { resolveSpec } from './pull.js';
import { createClient, tagSource } from './client.js';
import { throttle } from '../cli/progress/runner.js';
import { resolutionFacts } from './resolve.js';
import { KairosImgError } from '../errors.js';
import { formatPlatform, hostArch as defaultHostArch } from '../oci/index.js';
import type { UnpackContext, UnpackOptions, UnpackSummary } from './unpack.js';

export type UnpackEngine = 'docker' | 'luet';

export interface ViaContext extends UnpackContext {
  engine?: { name: UnpackEngine; detail: string; digest?: string | undefined };
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

export function unpackViaTasks(opts: UnpackOptions & { via: UnpackEngine }): Array<ListrTask<ViaContext>> {
  const hostArch = opts.hostArch ?? defaultHostArch();
  const env = opts.env ?? process.env;
  return [
    {
      title: 'Resolve the image',
      task: async (ctx, task) => {
        await checkTarget({ dir: opts.dir, force: opts.force });
        const t = await resolveSpec({ ...opts, hostArch, tags: 'reference' in opts.image ? undefined : tagSource(ctx.client ??= createClient({ plainHttp: opts.plainHttp, env, log: opts.log })) });
        Object.assign(ctx, { reference: t.reference, platform: t.platform, resolution: t.resolution });
        if (ctx.reference === undefined) throw new Error('not resolved');
        task.title = `Resolved ${formatReference(ctx.reference)}`;
      },
    },
    opts.via === 'docker'
      ? {
          title: 'Pull into the Docker engine, export a container\'s filesystem, unpack it',
          task: async (ctx, task) => {
            const ref = ctx.reference;
            if (ref === undefined || ctx.platform === undefined) throw new Error('not resolved');
            const platform = `${ctx.platform.os}/${ctx.platform.architecture}`;
            const { docker, address } = await connectDocker({ env, signal: opts.signal });
            const pulled = await pullIntoEngine({ docker, reference: ref, platform, credentials: dockerConfigCredentials({ env }), plainHttp: opts.plainHttp, signal: opts.signal });
            const show = throttle(opts.progress === 'tty' ? 150 : 5000, (entries: number, bytes: number) => { task.output = `${entries} entries, ${(bytes / 1048576).toFixed(1)} MiB`; });
            const report = await unpackViaDocker({ docker, reference: pulled.imageId, platform, signal: opts.signal, dir: opts.dir, force: opts.force, onProgress: (e) => show(e.entries, e.bytes) });
            ctx.report = report;
            ctx.engine = { name: 'docker', detail: `${address.display} (image ${pulled.imageId.slice(0, 19)}…)`, digest: pulled.digest };
            task.title = `Unpacked through the Docker engine: ${report.entries} entries`;
          },
        }
      : {
          title: 'Unpack with luet util unpack',
          task: async (ctx, task) => {
            const ref = ctx.reference;
            if (ref === undefined || ctx.platform === undefined) throw new Error('not resolved');
            const staged = await stageDir({ dir: opts.dir, force: opts.force });
            try {
              const r = await luetUnpack({ image: formatReference(ref), dir: staged.temp, platform: `${ctx.platform.os}/${ctx.platform.architecture}`, env, signal: opts.signal, log: opts.log });
              const report = await countTree(staged.temp);
              await staged.commit();
              ctx.report = { ...report, dir: staged.dir };
              ctx.engine = { name: 'luet', detail: r.command.join(' ') };
              task.title = `Unpacked with ${r.engine === 'luet' ? 'luet' : 'luet in the Docker engine'}: ${report.entries} entries`;
            } catch (e) {
              await staged.discard();
              throw e;
            }
          },
        },
  ];
}

export function summarizeVia(ctx: ViaContext): UnpackSummary {
  if (ctx.report === undefined || ctx.reference === undefined || ctx.engine === undefined) {
    throw new KairosImgError('UNPACK_INCOMPLETE', 'the unpack did not complete');
  }
  return {
    ...ctx.report,
    reference: formatReference(ctx.reference),
    digest: ctx.engine.digest ?? null,
    via: ctx.engine.name,
    engine: ctx.engine.detail,
    platform: ctx.platform === undefined ? 'unknown' : formatPlatform(ctx.platform),
    fromCache: false,
    resolution: ctx.resolution === undefined ? undefined : resolutionFacts(ctx.resolution),
  };
}
