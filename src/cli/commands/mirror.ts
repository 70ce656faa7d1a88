import type { Command } from 'commander';
import { mirror, parseArches, parseMirrorDestination, parseVersions, type MirrorReport, type MirrorSource } from '../../operations/mirror.js';
import { usageError } from '../../errors.js';
import { catalogNamedBy } from '../../catalog/index.js';
import { withProgress } from '../progress/index.js';
import { mirrorProgress, mirrorSteps } from '../progress/mirror.js';
import { formatBytes, type CommandResult, type Style } from '../render.js';
import { looksLikeReference } from '../target.js';
import { mirrored } from '../mirror.js';
import { parseReference } from '../../reference/reference.js';
import { parseTransport } from '../../store/sources/index.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';

const USAGE = 'kairos-img mirror <flavor> <variant> | <reference> | oci:DIR … --to HOST[:PORT][/PREFIX] | oci:DIR | oci-archive:FILE';

interface MirrorOpts {
  to?: string;
  versions?: string;
  arch?: string;
  model?: string;
  withArtifacts?: boolean;
  withSignatures?: boolean;
  dryRun?: boolean;
  concurrency: string;
}

/** Positional arguments → sources: a reference or transport is one argument, a catalog selection two. */
async function sources(ctx: CliContext, args: readonly string[], opts: MirrorOpts): Promise<MirrorSource[]> {
  if (args.length === 0) throw usageError('MISSING_ARGUMENT', 'name what to mirror', `usage: ${USAGE}`);
  const out: MirrorSource[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (looksLikeReference(arg)) {
      const t = parseTransport(arg);
      if (t !== undefined && t.kind !== 'docker') {
        out.push({ source: t });
      } else {
        const ref = parseReference(t?.kind === 'docker' ? t.reference : arg);
        // --registry reads the catalogs' registries from another host; the image keeps its path.
        out.push({ reference: await mirrored(ref, ctx.registry) });
      }
      continue;
    }
    const catalog = catalogNamedBy(arg);
    const variant = args[i + 1];
    if (variant === undefined || looksLikeReference(variant)) throw usageError('MISSING_ARGUMENT', catalog.positional.missing(arg), `usage: ${USAGE}`);
    out.push({ flavor: arg, variant, model: opts.model });
    i++;
  }
  return out;
}

function human(d: MirrorReport, style: Style): string {
  const lines = d.images.map((i) => `${i.source} ${style.dim('→')} ${i.destination} ${style.dim(i.digest)}`);
  const b = d.blobs;
  lines.push(d.dryRun
    ? style.dim(`dry run: ${b.copied} blobs (${formatBytes(b.bytes)}) would be copied, ${b.skipped} are there`)
    : style.dim(`${b.copied} blobs copied (${formatBytes(b.bytes)}), ${b.mounted} mounted, ${b.skipped} already there; ${d.manifests} manifests written`));
  return lines.join('\n');
}

export const mirrorCommand: CommandSpec = {
  register(program: Command, run) {
    program
      .command('mirror')
      .argument('<source...>', '<flavor> <variant> selections, full references, OCI layouts (oci:DIR[:NAME]) or archives')
      .description('copy images into a registry (keeping their repository paths) or an OCI layout / oci-archive, byte for byte')
      .option('--to <dest>', 'HOST[:PORT][/PREFIX] (a registry), oci:DIR (a layout) or oci-archive:FILE')
      .option('--versions <v>', 'catalog selections: latest, the newest N releases, or a range (">=2.4.0 <3")', 'latest')
      .option('--arch <arches>', 'all, or a comma list (amd64,arm64): platforms kept', 'all')
      .option('--model <model>', 'catalog selections: board model (generic, rpi3, rpi4)')
      .option('--with-artifacts', 'catalog selections: also the -img disk-image artifacts')
      .option('--with-signatures', 'also cosign .sig/.att/.sbom tags and referrers of each image')
      .option('--dry-run', 'list what would be copied; write nothing')
      .option('--concurrency <n>', 'blobs copied at once', '4')
      .addHelpText('after', [
        '',
        'Examples:',
        '  kairos-img mirror ubuntu-22-lts core --versions 2 --to registry.site.local:5000/kairos-mirror',
        '  kairos-img mirror quay.io/kairos/ubuntu:22.04-core-amd64-generic-v3.2.1 --to oci:./usb/kairos',
        '  kairos-img mirror oci:./usb/kairos --to registry.site.local:5000',
        '  kairos-img mirror opensuse-arm-rpi core --with-artifacts --with-signatures --to oci-archive:./kairos.tar --dry-run',
      ].join('\n'))
      .action(run(async (ctx, args, opts: MirrorOpts): Promise<CommandResult<MirrorReport>> => {
        const to = parseMirrorDestination(opts.to);
        const concurrency = Number(opts.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) throw usageError('BAD_OPTION', `--concurrency ${opts.concurrency} is not a number from 1 to 16`);
        parseVersions(opts.versions);
        const arches = parseArches(opts.arch);
        const list = await sources(ctx, args, opts);
        const dryRun = opts.dryRun === true;
        const data = await withProgress(ctx, mirrorSteps({ dryRun }), (ui) => mirror({
          sources: list, to, versions: opts.versions, arches, withArtifacts: opts.withArtifacts, withSignatures: opts.withSignatures,
          dryRun, concurrency, registry: ctx.registry, plainHttp: ctx.plainHttp, hostArch: ctx.hostArch, cacheDir: ctx.cacheDir,
          env: ctx.env, signal: ctx.signal, onEvent: mirrorProgress(ui),
        }));
        return { data, human, outputs: { images: String(data.images.length), digests: data.images.map((i) => `${i.destination}@${i.digest}`).join('\n') } };
      }));
  },
};
