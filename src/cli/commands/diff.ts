import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { diffImages, type DiffReport } from '../../operations/diff.js';
import { parseReference } from '../../reference/reference.js';
import { withProgress } from '../progress/index.js';
import { diffProgress, diffSteps } from '../progress/diff.js';
import { diffLines } from '../render/diff.js';
import { mirrored } from '../mirror.js';
import type { CommandResult } from '../render.js';
import type { CommandSpec } from '../command.js';
import type { ImageSpec } from '../../operations/common.js';
import { parseTransport } from '../../store/sources/index.js';

const USAGE = 'kairos-img diff <image-a> <image-b> [--arch A]';

export const diffCommand: CommandSpec = {
  register(program: Command, run) {
    program
      .command('diff')
      .argument('<images...>', 'two full image references (or image sources: docker-archive:FILE, oci:DIR:NAME, …)')
      .description('what changes between two images: release keys, os-release, kernel, Kubernetes version, packages (dpkg, apk)')
      .option('--arch <arch>', 'the platform of multi-arch images (default: the host\'s)')
      .addHelpText('after', [
        '',
        'Only the top layers that hold the release files, the package database and the kernel modules',
        'are read, streaming; no image is unpacked. rpm databases are recognised but not read.',
        '',
        'Examples:',
        '  kairos-img diff quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.2.1 quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.2.4',
        '  kairos-img diff quay.io/kairos/alpine:3.21-core-amd64-generic-v3.4.2 quay.io/kairos/alpine:3.21-core-amd64-generic-v3.5.0 --json',
      ].join('\n'))
      .action(run(async (ctx, args, opts: { arch?: string }): Promise<CommandResult<DiffReport>> => {
        if (args.length !== 2) throw usageError(args.length < 2 ? 'MISSING_ARGUMENT' : 'TOO_MANY_ARGUMENTS', 'name two images to compare', `usage: ${USAGE}`);
        // Each side is a reference or an image source (docker-archive:, oci:, …).
        const side = async (x: string): Promise<ImageSpec> => {
          const t = parseTransport(x);
          if (t !== undefined && t.kind !== 'docker') return { source: t };
          return { reference: await mirrored(parseReference(t?.kind === 'docker' ? t.reference : x), ctx.registry) };
        };
        const [a, b] = await Promise.all(args.map(side));
        if (a === undefined || b === undefined) throw usageError('MISSING_ARGUMENT', 'name two images to compare', `usage: ${USAGE}`);
        const data = await withProgress(ctx, diffSteps(), (ui) => diffImages({
          a, b, arch: opts.arch, plainHttp: ctx.plainHttp, cacheDir: ctx.cacheDir, hostArch: ctx.hostArch, env: ctx.env, signal: ctx.signal, onEvent: diffProgress(ui),
        }));
        return { data, outputs: { a: data.a.reference, b: data.b.reference }, human: (d, style) => diffLines(d, style).join('\n') };
      }));
  },
};
