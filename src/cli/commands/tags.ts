import type { Command } from 'commander';
import { listTags, type TagListing } from '../../operations/tags.js';
import { createClient } from '../../operations/client.js';
import { parseTarget } from '../target.js';
import { mirrored } from '../mirror.js';
import { table, type CommandResult, type Style } from '../render.js';
import type { CommandSpec } from '../command.js';
import { usageError } from '../../errors.js';

const USAGE = 'kairos-img tags <flavor> <variant> | <repository>';

function statusText(s: string | undefined, style: Style): string {
  if (s === undefined) return '';
  const words: Record<string, string> = {
    supported: 'supported', 'outdated-patch': 'outdated patch', 'unsupported-branch': 'unsupported branch',
    prerelease: 'pre-release', 'outdated-k3s': 'outdated k3s', 'unknown-k3s': 'unknown k3s', 'not-a-release': 'not a release',
  };
  const w = words[s] ?? s;
  return s === 'supported' ? style.ok(w) : w;
}

export const tagsCommand: CommandSpec = {
  register(program: Command, run) {
    program
      .command('tags')
      .argument('<image...>', '<flavor> <variant>, or a repository (host/path)')
      .description('list tags newest first, classified (release, pre-release, artifact) with their support verdict')
      .option('--all', 'also show noise: latest, branches, git hashes, cosign sha256-*.sig/.att/.sbom')
      .option('--arch <arch>', 'v2.4.2+ names: only this arch (default: the host\'s, arm64 for Raspberry Pi flavors)')
      .option('--model <model>', 'v2.4.2+ names: only this model')
      .addHelpText('after', '\nExamples:\n  kairos-img tags ubuntu-22-lts standard\n  kairos-img tags quay.io/kairos/core-opensuse --all --json\n  kairos-img tags talos installer')
      .action(run(async (ctx, args, opts: { all?: boolean; arch?: string; model?: string }): Promise<CommandResult<TagListing>> => {
        const target = parseTarget(args, { usage: USAGE });
        if (target.kind === 'source') throw usageError('SOURCE_NOT_SUPPORTED', `${target.text}: tags lists a registry repository`, `usage: ${USAGE}`);
        const client = createClient({ plainHttp: ctx.plainHttp, env: ctx.env, log: ctx.verbose ? (l) => ctx.stderr.write(`${l}\n`) : undefined });
        const data = await listTags({
          client,
          target: target.kind === 'reference'
            ? { repository: await mirrored(target.reference, ctx.registry, { defaultTag: false }) }
            : { os: target.os, flavor: target.flavor, variant: target.variant, arch: opts.arch, model: opts.model },
          registry: ctx.registry,
          hostArch: ctx.hostArch,
          all: opts.all,
          signal: ctx.signal,
        });
        return {
          data,
          human: (d, style) => {
            const multi = d.repositories.length > 1;
            const body = table(
              [...(multi ? ['REPOSITORY'] : []), 'TAG', 'KIND', 'VERDICT', 'NOTE'],
              d.tags.map((t) => [...(multi ? [t.repository] : []), t.tag, t.class, statusText(t.status, style), t.upgradeTo === undefined ? '' : `upgrade to ${t.upgradeTo}`]),
              style,
            );
            const head = multi ? '' : `${style.dim(d.repositories[0] ?? '')}\n`;
            const foot = d.hidden > 0 ? `\n${style.dim(`(${d.hidden} noise tags hidden; --all shows them)`)}` : '';
            return `${head}${body}${foot}`;
          },
        };
      }));
  },
};
