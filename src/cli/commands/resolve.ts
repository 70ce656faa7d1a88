import type { Command } from 'commander';
import { formatReference } from '../../reference/reference.js';
import { resolveImage } from '../resolve-target.js';
import type { CommandResult } from '../render.js';
import { createClient, tagSource } from '../../operations/client.js';
import type { CommandSpec } from '../command.js';
import { imageOptions, type ImageOptions } from '../image-options.js';

export const resolveCommand: CommandSpec = {
  register(program: Command, run) {
    imageOptions(
      program
        .command('resolve')
        .argument('<image...>', '<flavor> <variant>, or a full image reference')
        .description('print the full image reference for a flavor and variant (offline when --version, and --k3s for standard, are given)')
        .option('--artifact', 'name the Raspberry Pi disk-image artifact instead of the OS image')
        .option('--flavor-release <r>', 'v2.4.2+ names: the upstream release in the tag (24.04, leap-15.6, Hadron v0.2.0); default: the flavor\'s pin, else the newest on the registry')
        .option('--k0s [version]', 'a standard image with k0s instead of k3s (optionally its version, e.g. v1.33.1+k0s.0)')
        .option('--uki', 'the trusted-boot (UKI) image'),
    )
      .addHelpText('after', [
        '',
        'Examples:',
        '  kairos-img resolve ubuntu-22-lts standard --version v1.5.1 --k3s v1.26.1+k3s1',
        '  kairos-img resolve ubuntu-22-lts core --version v2.4.3 --arch amd64',
        '  kairos-img resolve hadron core --version v4.1.0 --flavor-release v0.2.0',
        '  kairos-img resolve ubuntu core --version v3.2.1 --flavor-release 24.04',
        '  kairos-img resolve hadron standard --k0s          # newest, asks the registry',
        '  kairos-img resolve opensuse core --registry 127.0.0.1:5000 --plain-http   # newest release, asks the registry',
      ].join('\n'))
      .action(run(async (ctx, args, opts: ImageOptions & { artifact?: boolean; flavorRelease?: string; k0s?: string | boolean; uki?: boolean }): Promise<CommandResult> => {
        const k0s = typeof opts.k0s === 'string' ? opts.k0s : undefined;
        const r = await resolveImage(ctx, args, {
          ...opts, k0s, kubernetes: opts.k0s === undefined ? undefined : 'k0s', flavorRelease: opts.flavorRelease, uki: opts.uki,
          kind: opts.artifact === true ? 'artifact' : 'image', usage: 'kairos-img resolve <flavor> <variant> | <reference>',
          tags: tagSource(createClient({ plainHttp: ctx.plainHttp, env: ctx.env, log: ctx.verbose ? (l) => ctx.stderr.write(`${l}\n`) : undefined })) });
        const reference = formatReference(r.reference);
        const data = {
          reference,
          registry: r.reference.registry,
          repository: r.reference.repository,
          tag: r.reference.tag ?? null,
          digest: r.reference.digest ?? null,
          ...(r.catalog === undefined ? {} : {
            flavor: r.catalog.flavor, variant: r.catalog.variant, version: r.catalog.version, k3s: r.catalog.k3s ?? null,
            arch: r.catalog.arch, model: r.catalog.model, era: r.catalog.era, kind: r.catalog.kind,
            flavorRelease: r.catalog.flavorRelease ?? null, kubernetes: r.catalog.kubernetes ?? null, k8s: r.catalog.k8s ?? null, uki: r.catalog.uki === true,
            image: formatReference(r.catalog.image),
            pin: r.catalog.pin === undefined ? null : { os: r.catalog.pin.os, release: r.catalog.pin.release },
            discovered: r.catalog.discovered,
          }),
        };
        return { data, human: () => reference, outputs: { reference } };
      }));
  },
};
