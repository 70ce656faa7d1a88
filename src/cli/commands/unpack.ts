import path from 'node:path';
import type { Command } from 'commander';
import { unpack, type UnpackSummary } from '../../operations/unpack.js';
import { unpackVia } from '../../operations/unpack-via.js';
import { withProgress } from '../progress/index.js';
import { unpackProgress, unpackSteps, unpackViaProgress, unpackViaSteps } from '../progress/unpack.js';
import { formatBytes, type CommandResult } from '../render.js';
import { parseTarget } from '../target.js';
import { imageOptions, type ImageOptions } from '../image-options.js';
import { usageError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { imageSpec } from '../resolve-target.js';
import { signatureOptions, signatureRequirementOf, type SignatureFlags } from '../signature-options.js';

const USAGE = 'kairos-img unpack <flavor> <variant> <dir> | <reference> <dir>';

export const unpackCommand: CommandSpec = {
  register(program: Command, run) {
    signatureOptions(imageOptions(
      program
        .command('unpack')
        .argument('<image-and-dir...>', '<flavor> <variant> <dir>, or <reference> <dir>')
        .description('unpack an image\'s root filesystem into a directory: verified, safe against hostile layers, atomic')
        .option('--force', 'replace a non-empty <dir> (atomically)')
        .option('--refresh', 'ask the registry for the tag even when the cache has it')
        .option('--via <engine>', 'native (default), docker (the engine pulls; its container export is written by the same safe writer) or luet (luet util unpack, or quay.io/luet/base through Docker)', 'native'),
    ))
      .addHelpText('after', [
        '',
        'Examples:',
        '  kairos-img unpack alpine-opensuse-leap core ./rootfs',
        '  kairos-img unpack opensuse core ./rootfs --version v1.4.0 --force',
        '  kairos-img unpack quay.io/kairos/core-ubuntu-22-lts:v1.5.0 ./rootfs --json',
        '  kairos-img unpack opensuse core ./rootfs --via docker',
      ].join('\n'))
      .action(run(async (ctx, args, opts: ImageOptions & SignatureFlags & { force?: boolean; refresh?: boolean; via: string }): Promise<CommandResult<UnpackSummary>> => {
        if (opts.via !== 'native' && opts.via !== 'docker' && opts.via !== 'luet') {
          throw usageError('BAD_OPTION', `--via ${opts.via} is not an engine kairos-img knows`, 'use --via native, --via docker or --via luet');
        }
        const signature = await signatureRequirementOf(opts);
        if (signature !== undefined && opts.via !== 'native') {
          throw usageError('CONFLICTING_OPTIONS', `the signature flags gate the native unpack; --via ${opts.via} lets the engine pull by itself`, 'leave --via out to verify the signature before anything is written');
        }
        const dirArg = args[args.length - 1];
        if (args.length < 2 || dirArg === undefined) throw usageError('MISSING_ARGUMENT', 'name the image and the directory to unpack into', `usage: ${USAGE}`);
        const dir = path.resolve(dirArg);
        const target = parseTarget(args.slice(0, -1), { usage: USAGE });
        const image = await imageSpec(ctx, target, opts);
        const common = {
          image, dir, force: opts.force, registry: ctx.registry, plainHttp: ctx.plainHttp, arch: opts.arch,
          signal: ctx.signal, env: ctx.env, hostArch: ctx.hostArch,
        };
        const via = opts.via;
        const data = via === 'native'
          ? await withProgress(ctx, unpackSteps({ signature: signature !== undefined }), (ui) => unpack({ ...common, cacheDir: ctx.cacheDir, refresh: opts.refresh, signature, onEvent: unpackProgress(ui) }))
          : await withProgress(ctx, unpackViaSteps(via), (ui) => unpackVia({ ...common, via, onEvent: unpackViaProgress(ui) }));
        const outputs: Record<string, string> = { reference: data.reference, path: data.dir };
        if (data.digest !== null) outputs['digest'] = data.digest;
        return {
          data,
          outputs,
          human: (d, style) => {
            const skipped = d.skipped.owners + d.skipped.devices + d.skipped.xattrs;
            return [
              `${d.dir}`,
              `${style.dim('image:')}   ${d.reference} ${style.dim(`(${d.digest === null ? '' : `${d.digest.slice(0, 19)}…, `}${d.platform}${d.fromCache ? ', from the cache' : ''})`)}`,
              ...(d.engine === undefined ? [] : [`${style.dim('via:')}     ${d.via}: ${d.engine}`]),
              `${style.dim('content:')} ${d.entries} entries: ${d.files} files, ${d.dirs} directories, ${d.symlinks} symlinks, ${d.hardlinks} hardlinks, ${formatBytes(d.bytes)}; ${d.whiteouts} whiteouts applied`,
              ...(skipped > 0 ? [`${style.dim('skipped:')} ${d.skipped.owners} owners, ${d.skipped.devices} device nodes, ${d.skipped.xattrs} xattrs (run as root to keep them)`] : []),
              ...d.warnings.slice(0, 5).map((w) => `${style.dim('warning:')} ${w}`),
            ].join('\n');
          },
        };
      }));
  },
};
