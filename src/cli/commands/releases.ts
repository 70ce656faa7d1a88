import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { listReleases, type ReleasesReport, type SystemSource } from '../../operations/releases.js';
import { withProgress } from '../progress/index.js';
import { releasesProgress, releasesSteps } from '../progress/releases.js';
import { mirrored } from '../mirror.js';
import { parseReference } from '../../reference/reference.js';
import { table, type CommandResult, type Style } from '../render.js';
import { diffLines } from '../render/diff.js';
import type { CommandSpec } from '../command.js';

const USAGE = 'kairos-img releases --release-file FILE | --image REF | <flavor> <variant> [--version V] [--pre] [--to TAG|VERSION] [--diff]';

interface ReleasesOpts {
  releaseFile?: string;
  image?: string;
  version?: string;
  flavorRelease?: string;
  arch?: string;
  model?: string;
  k3s?: string;
  k0s?: string | boolean;
  uki?: boolean;
  pre?: boolean;
  to?: string;
  diff?: boolean;
}

const STATUS: Record<string, string> = {
  supported: 'supported', 'outdated-patch': 'outdated patch', 'unsupported-branch': 'unsupported branch',
  prerelease: 'pre-release', 'outdated-k3s': 'outdated k3s', 'unknown-k3s': 'unknown k3s', 'not-a-release': 'not a release',
};

function human(d: ReleasesReport, style: Style): string {
  const c = d.current;
  const line = [c.flavor, c.flavorRelease, c.variant, c.arch, c.model, c.version ?? '(no current release)', c.k8s?.version === undefined ? c.k8s?.distro : `${c.k8s.distro} ${c.k8s.version}`, c.uki ? 'UKI' : undefined]
    .filter((x): x is string => x !== undefined && x !== '').join(' ');
  const out = [`${style.dim('system:')}  ${line} ${style.dim(`(${c.source})`)}`];
  if (c.reference !== undefined) out.push(`${style.dim('image:')}   ${c.reference}${c.verdict === undefined ? '' : ` ${style.dim(`(${STATUS[c.verdict.status] ?? c.verdict.status})`)}`}`);
  if (d.candidates.length === 0) {
    out.push('', `no newer release on ${c.repositories.join(', ') || 'the registry'} for this system`);
    return out.join('\n');
  }
  out.push('', table(['CANDIDATE', 'VERSION', 'KUBERNETES', 'VERDICT'], d.candidates.map((x) => [
    x.reference, x.version, x.k8s ?? '-', x.verdict.ok ? style.ok(STATUS[x.verdict.status] ?? '') : STATUS[x.verdict.status] ?? x.verdict.status,
  ]), style));
  if (d.plan !== undefined) {
    out.push('', style.bold(`Upgrade plan: ${d.plan.from ?? '(current)'} → ${d.plan.reference}`));
    out.push(`  ${style.dim('read the changelog of every release it crosses:')}`);
    for (const r of d.plan.releases) out.push(`  ${r.version.padEnd(10)} ${r.changelogs.join('  ')}`);
    for (const w of d.plan.warnings) out.push(`${style.bad('warning:')} ${w}`);
  }
  if (d.diff !== undefined) out.push('', style.bold('What changes:'), ...diffLines(d.diff, style));
  return out.join('\n');
}

export const releasesCommand: CommandSpec = {
  register(program: Command, run) {
    program
      .command('releases')
      .argument('[image...]', '<flavor> <variant> (with --version: the release the system runs)')
      .description('the upgrade candidates of one system, newest first, with their verdicts, changelog links and an upgrade plan')
      .option('--release-file <file>', 'a running system\'s /etc/kairos-release (or /etc/os-release of older systems)')
      .option('--image <ref>', 'the image the system runs (its release files are read from the top layers)')
      .option('--version <v>', 'with <flavor> <variant>: the Kairos release the system runs')
      .option('--flavor-release <r>', 'with <flavor> <variant>: the flavor release (24.04, leap-15.6, Hadron v0.2.0)')
      .option('--arch <arch>', 'amd64 or arm64 (default: what the system says, else the host\'s)')
      .option('--model <model>', 'with <flavor> <variant>: generic, rpi4, …')
      .option('--k3s <v>', 'with <flavor> <variant>: the k3s version the system runs')
      .option('--k0s [v]', 'with <flavor> <variant>: a k0s system (optionally its k0s version)')
      .option('--uki', 'with <flavor> <variant>: a trusted-boot (UKI) system')
      .option('--pre', 'include pre-releases')
      .option('--to <target>', 'the upgrade plan\'s target: a candidate tag or a Kairos version (default: the newest supported candidate)')
      .option('--diff', 'also show what changes from the current image to the target (release keys, kernel, Kubernetes, packages)')
      .addHelpText('after', [
        '',
        'Candidates are tags of the same flavor, flavor release, variant, arch, model and Kubernetes',
        'distribution, newer than the current release; never -img artifacts, signatures, attestations,',
        '`latest`, UKI images for a non-UKI system, or pre-releases (unless --pre). The registry is the',
        'one KAIROS_REGISTRY_AND_ORG names unless --registry.',
        '',
        'Examples:',
        '  kairos-img releases --release-file /etc/kairos-release',
        '  kairos-img releases --image quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.2.1 --json',
        '  kairos-img releases hadron core --flavor-release v0.2.0 --version v4.1.0',
        '  kairos-img releases --image quay.io/kairos/alpine:3.21-core-amd64-generic-v3.4.2 --diff',
      ].join('\n'))
      .action(run(async (ctx, args, opts: ReleasesOpts): Promise<CommandResult<ReleasesReport>> => {
        const given = [opts.releaseFile !== undefined, opts.image !== undefined, args.length > 0].filter(Boolean).length;
        if (given !== 1) {
          throw usageError(given === 0 ? 'MISSING_ARGUMENT' : 'CONFLICTING_OPTIONS', given === 0 ? 'name the system: --release-file FILE, --image REF or <flavor> <variant>' : 'name the system one way: --release-file, --image or <flavor> <variant>', `usage: ${USAGE}`);
        }
        const catalogOnly = ['version', 'flavorRelease', 'model', 'k3s', 'k0s', 'uki'] as const;
        if (args.length === 0) {
          for (const k of catalogOnly) {
            if (opts[k] !== undefined) throw usageError('CONFLICTING_OPTIONS', `--${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)} applies to <flavor> <variant>; the release file or image says it`, `usage: ${USAGE}`);
          }
        }
        let system: SystemSource;
        if (opts.releaseFile !== undefined) {
          let text: string;
          try {
            text = await readFile(opts.releaseFile, 'utf8');
          } catch (e) {
            throw usageError('RELEASE_FILE_UNREADABLE', `cannot read ${opts.releaseFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'give the path of a Kairos system\'s /etc/kairos-release');
          }
          system = { kind: 'release-file', text, path: opts.releaseFile };
        } else if (opts.image !== undefined) {
          system = { kind: 'image', image: { reference: await mirrored(parseReference(opts.image), ctx.registry) } };
        } else {
          const [flavor, variant, ...rest] = args;
          if (flavor === undefined || variant === undefined || rest.length > 0) throw usageError('MISSING_ARGUMENT', 'name the system as <flavor> <variant>', `usage: ${USAGE}`);
          system = {
            kind: 'catalog', flavor, variant, version: opts.version, flavorRelease: opts.flavorRelease, model: opts.model, k3s: opts.k3s,
            k0s: typeof opts.k0s === 'string' ? opts.k0s : undefined, kubernetes: opts.k0s === undefined ? undefined : 'k0s', uki: opts.uki,
          };
        }
        const data = await withProgress(ctx, releasesSteps({ image: system.kind === 'image', diff: opts.diff }), (ui) => listReleases({
          system, pre: opts.pre, to: opts.to, diff: opts.diff, arch: opts.arch, registry: ctx.registry, plainHttp: ctx.plainHttp, hostArch: ctx.hostArch,
          env: ctx.env, signal: ctx.signal, onEvent: releasesProgress(ui),
        }));
        const outputs: Record<string, string> = { candidates: String(data.candidates.length) };
        if (data.plan !== undefined) outputs['target'] = data.plan.reference;
        return { data, outputs, human };
      }));
  },
};
