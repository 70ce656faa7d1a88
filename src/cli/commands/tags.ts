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

/** `upgrade to <tag>` (or `use <tag>` for a release older than a pre-release), with the repository when it is another one. */
function note(t: TagListing['tags'][number]): string {
  if (t.upgradeTo === undefined) return '';
  const verb = t.reason?.includes('; use ') === true ? 'use' : 'upgrade to';
  return `${verb} ${t.upgradeRepository === undefined ? '' : `${t.upgradeRepository}:`}${t.upgradeTo}`;
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
      .option('--flavor-release <r>', 'v2.4.2+ names: only this flavor release (24.04, leap-15.6, Hadron v0.2.0)')
      .addHelpText('after', [
        '',
        'A flavor is judged across every repository it has been published in (core-ubuntu, then ubuntu):',
        'the latest release branch is the flavor\'s. A repository named by itself is judged alone.',
        '',
        'Examples:',
        '  kairos-img tags ubuntu-22-lts standard',
        '  kairos-img tags hadron core --flavor-release v0.2.0',
        '  kairos-img tags quay.io/kairos/core-opensuse --all --json',
        '  kairos-img tags talos installer',
      ].join('\n'))
      .action(run(async (ctx, args, opts: { all?: boolean; arch?: string; model?: string; flavorRelease?: string }): Promise<CommandResult<TagListing>> => {
        const target = parseTarget(args, { usage: USAGE });
        if (target.kind === 'source') throw usageError('SOURCE_NOT_SUPPORTED', `${target.text}: tags lists a registry repository`, `usage: ${USAGE}`);
        const client = createClient({ plainHttp: ctx.plainHttp, env: ctx.env, log: ctx.verbose ? (l) => ctx.stderr.write(`${l}\n`) : undefined });
        const data = await listTags({
          client,
          target: target.kind === 'reference'
            ? { repository: await mirrored(target.reference, ctx.registry, { defaultTag: false }) }
            : { os: target.os, flavor: target.flavor, variant: target.variant, arch: opts.arch, model: opts.model, flavorRelease: opts.flavorRelease },
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
              d.tags.map((t) => [...(multi ? [t.repository] : []), t.tag, t.class, statusText(t.status, style), note(t)]),
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
