import path from 'node:path';
import type { Command } from 'commander';
import { extractImg, type ExtractImgSummary } from '../../operations/extract-img.js';
import type { ImageSpec } from '../../operations/common.js';
import { withProgress } from '../progress/index.js';
import { extractImgProgress, extractImgSteps } from '../progress/extract-img.js';
import { rewriteRegistry } from '../../reference/reference.js';
import { usageError } from '../../errors.js';
import { formatBytes, type CommandResult } from '../render.js';
import { parseTarget } from '../target.js';
import { imageOptions, type ImageOptions } from '../image-options.js';
import type { CommandSpec } from '../command.js';
import { signatureOptions, signatureRequirementOf, type SignatureFlags } from '../signature-options.js';

const USAGE = 'kairos-img extract-img <flavor> [<variant>] | <reference> [--out DIR] [--decompress] [--via luet]';

interface ExtractImgOpts extends ImageOptions, SignatureFlags {
  out: string;
  decompress?: boolean;
  via?: string;
}

export const extractImgCommand: CommandSpec = {
  register(program: Command, run) {
    signatureOptions(imageOptions(
      program
        .command('extract-img')
        .argument('<image...>', '<flavor> [<variant>] (default variant: core), or the full reference of an artifact')
        .description('extract the Raspberry Pi disk image of a release from its OCI artifact, checksum verified')
        .option('--out <dir>', 'directory for the disk image and its companions', './build')
        .option('--decompress', 'write the disk image uncompressed (.img.xz/.gz/.zst → .img)')
        .option('--via <engine>', 'luet: run `luet util unpack` (or its container through Docker) instead of extracting natively'),
    ))
      .addHelpText('after', [
        '',
        'Examples:',
        '  kairos-img extract-img alpine-arm-rpi --version v1.5.0',
        '  kairos-img extract-img opensuse-arm-rpi core --version v2.4.3 --model rpi4 --decompress',
        '  kairos-img extract-img quay.io/kairos/core-alpine-arm-rpi:v1.1.7.img --out ./build',
        '',
        'Then write the image to a card (check the device with lsblk first):',
        '  sudo dd if=build/<name>.img of=/dev/sdX bs=4M conv=fsync status=progress',
      ].join('\n'))
      .action(run(async (ctx, args, opts: ExtractImgOpts): Promise<CommandResult<ExtractImgSummary>> => {
        if (opts.via !== undefined && opts.via !== 'luet' && opts.via !== 'native') {
          throw usageError('BAD_OPTION', `--via ${opts.via} is not an extraction engine`, 'use --via luet, or leave --via out for the native extraction');
        }
        const signature = await signatureRequirementOf(opts);
        const target = parseTarget(args, { usage: USAGE, defaultVariant: 'core' });
        let artifact: ImageSpec;
        if (target.kind !== 'catalog') {
          for (const flag of ['version', 'k3s', 'model'] as const) {
            if (opts[flag] !== undefined) throw usageError('CONFLICTING_OPTIONS', `--${flag} applies to <flavor> [<variant>], not to a full reference`, `drop --${flag}, or name the artifact by flavor and variant`);
          }
        }
        if (target.kind === 'source') {
          artifact = { source: target.source };
        } else if (target.kind === 'reference') {
          const r = rewriteRegistry(target.reference, 'quay.io', ctx.registry);
          if (r.tag === undefined && r.digest === undefined) {
            throw usageError('MISSING_TAG', `${target.text} names no tag: an artifact reference needs one (e.g. :v1.5.0.img or :<tag>-img)`);
          }
          artifact = { reference: r };
        } else {
          artifact = { flavor: target.flavor, variant: target.variant, version: opts.version, k3s: opts.k3s, model: opts.model };
        }
        const outDir = path.resolve(opts.out);
        const via = opts.via === 'luet' ? 'luet' : 'native';
        const data = await withProgress(ctx, extractImgSteps(via, { signature: signature !== undefined }), (ui) => extractImg({
          artifact, outDir, decompress: opts.decompress === true, via, signature,
          arch: opts.arch, registry: ctx.registry, plainHttp: ctx.plainHttp, hostArch: ctx.hostArch, cacheDir: ctx.cacheDir, env: ctx.env,
          signal: ctx.signal, onEvent: extractImgProgress(ui),
        }));
        const image = data.files.find((f) => f.role === 'image');
        const outputs: Record<string, string> = { reference: data.reference, digest: data.digest, paths: data.files.map((f) => f.path).join('\n') };
        if (image !== undefined) {
          outputs['path'] = image.path;
          outputs['verified'] = String(image.verified);
        }
        return {
          data,
          outputs,
          human: (d, style) => {
            const rel = (p: string): string => {
              const r = path.relative(process.cwd(), p);
              return r.startsWith('..') ? p : r;
            };
            const status = (f: ExtractImgSummary['files'][number]): string =>
              f.checksum === 'verified' ? style.ok('verified  ') : f.checksum === 'unverified' ? style.bad('unverified') : style.dim('-         ');
            const lines = [
              d.reference,
              `${style.dim('digest:')} ${d.digest}${d.engine === 'native' ? '' : ` ${style.dim(`(via ${d.engine}: ${(d.command ?? []).join(' ')})`)}`}`,
              ...d.files.map((f) => `  ${status(f)}  ${formatBytes(f.size).padStart(9)}  ${rel(f.path)}${f.role === 'image' ? style.dim(`  ${f.compression !== 'none' && f.decompressed !== true ? 'raw image ' : ''}sha256 ${f.rawSha256 ?? f.sha256}`) : ''}`),
            ];
            if (image !== undefined && image.checksum === 'unverified') {
              lines.push(style.bad('the artifact has no checksum file for the disk image: it is unverified (its blob digest was checked)'));
            }
            if (d.next !== undefined) {
              lines.push('', 'Next: write it to an SD card (find the device with lsblk; everything on it is lost):', `  ${d.next}`);
            }
            return lines.join('\n');
          },
        };
      }));
  },
};
