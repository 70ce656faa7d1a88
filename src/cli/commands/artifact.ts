import path from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { parseAnnotation } from '../../oci/artifact.js';
import { artifactAttach, artifactPush, type ArtifactAttachSummary, type ArtifactPushSummary } from '../../operations/artifact-push.js';
import { signatureOptions, signatureRequirementOf, type SignatureFlags } from '../signature-options.js';
import { artifactPull, type ArtifactPullSummary } from '../../operations/artifact-pull.js';
import { artifactDiscover, type ArtifactDiscoverSummary, type DiscoveredReferrer } from '../../operations/artifact-discover.js';
import { parseReference } from '../../reference/reference.js';
import { withProgress } from '../progress/index.js';
import {
  artifactDiscoverProgress, artifactDiscoverSteps, artifactPullProgress, artifactPullSteps, artifactPushProgress, artifactPushSteps,
} from '../progress/artifact.js';
import { formatBytes, mdCode, mdTable, type CommandResult, type Style } from '../render.js';
import type { CommandSpec } from '../command.js';
import { hasTransport } from '../../store/sources/index.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface PushOpts {
  artifactType?: string;
  annotation: string[];
  concurrency: string;
}

function concurrencyOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw usageError('BAD_OPTION', `--concurrency ${text} is not a number from 1 to 16`);
  return n;
}

function annotationsOf(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list) {
    const [k, v] = parseAnnotation(a);
    out[k] = v;
  }
  return out;
}

function rel(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r === '' ? '.' : r.startsWith('..') ? p : r;
}

function pushedLines(d: ArtifactPushSummary, style: Style): string[] {
  return [
    d.reference,
    `${style.dim('digest:')}        ${d.digest}`,
    `${style.dim('artifact type:')} ${d.artifactType}`,
    ...d.layers.map((l) => `  ${(l.how === 'uploaded' ? style.ok('uploaded') : style.dim(l.how === 'exists' ? 'existed ' : 'mounted ')).padEnd(8)}  ${formatBytes(l.size).padStart(9)}  ${l.title}${l.kind === 'directory' ? '/' : ''}  ${style.dim(l.mediaType)}`),
  ];
}

function pushedSummary(title: string, d: ArtifactPushSummary, extra: string[][] = []): string {
  return [
    `### kairos-img ${title}`,
    mdTable(['', ''], [['reference', mdCode(d.reference)], ['digest', mdCode(d.digest)], ['artifact type', mdCode(d.artifactType)], ...extra]),
    mdTable(['file', 'media type', 'size', 'digest', ''], d.layers.map((l) => [`${l.title}${l.kind === 'directory' ? '/' : ''}`, l.mediaType, formatBytes(l.size), mdCode(l.digest), l.how])),
  ].join('\n\n');
}

/** A subcommand of `artifact` with the global options (the program adds them to its own commands only). */
function subcommand(parent: Command, name: string): Command {
  const sub = parent.command(name);
  for (const option of parent.options) sub.addOption(option);
  return sub.exitOverride().showHelpAfterError('(run with --help for usage)');
}

function treeLines(nodes: readonly DiscoveredReferrer[], prefix: string, style: Style): string[] {
  const lines: string[] = [];
  nodes.forEach((n, i) => {
    const last = i === nodes.length - 1;
    const created = n.annotations?.['org.opencontainers.image.created'];
    lines.push(`${prefix}${last ? '└── ' : '├── '}${n.artifactType ?? n.mediaType} ${style.dim(n.digest)}${created === undefined ? '' : style.dim(` (${created})`)}`);
    lines.push(...treeLines(n.referrers, `${prefix}${last ? '    ' : '│   '}`, style));
  });
  return lines;
}

export const artifactCommand: CommandSpec = {
  register(program: Command, run) {
    const group = program
      .command('artifact')
      .description('ORAS artifacts: push, pull, attach and discover files in a registry (as the oras CLI does)')
      .addHelpText('after', [
        '',
        'Examples:',
        '  kairos-img artifact push ghcr.io/me/images:v3.4.2-rpi4 build/kairos.img.xz:application/x-xz build/kairos.img.sha256',
        '  kairos-img artifact pull ghcr.io/me/images:v3.4.2-rpi4 --out build/',
        '  kairos-img artifact attach ghcr.io/me/images:v3.4.2-rpi4 sbom.spdx.json --artifact-type application/spdx+json',
        '  kairos-img artifact discover ghcr.io/me/images:v3.4.2-rpi4',
      ].join('\n'));

    subcommand(group, 'push')
      .argument('<reference>', 'registry/repository:tag to push to')
      .argument('<path...>', 'files and directories, each PATH or PATH:MEDIA_TYPE (titles are the paths as given, relative)')
      .description('push files and directories as an ORAS artifact (the manifest `oras push` writes)')
      .option('--artifact-type <type>', 'the artifact type (default application/vnd.unknown.artifact.v1)')
      .option('--annotation <key=value>', 'a manifest annotation (repeatable)', collect, [])
      .option('--concurrency <n>', 'blobs uploaded at once', '5')
      .action(run(async (ctx, args, opts: PushOpts): Promise<CommandResult<ArtifactPushSummary>> => {
        const [reference, ...files] = args;
        if (reference === undefined || files.length === 0) throw usageError('MISSING_ARGUMENT', 'artifact push needs a reference and at least one path');
        const data = await withProgress(ctx, artifactPushSteps({ attach: false }), (ui) => artifactPush({
          reference: parseReference(reference), files, artifactType: opts.artifactType, annotations: annotationsOf(opts.annotation),
          concurrency: concurrencyOf(opts.concurrency), plainHttp: ctx.plainHttp, env: ctx.env, signal: ctx.signal, onEvent: artifactPushProgress(ui),
        }));
        return {
          data,
          outputs: { reference: data.reference, digest: data.digest },
          human: (d, style) => pushedLines(d, style).join('\n'),
          summary: (d) => pushedSummary('artifact push', d),
        };
      }));

    subcommand(group, 'attach')
      .argument('<subject>', 'the manifest to attach to: registry/repository:tag or @sha256:…')
      .argument('[path...]', 'files and directories to attach, each PATH or PATH:MEDIA_TYPE')
      .description('push an artifact whose subject is another manifest (a referrer: SBOM, signature, report)')
      .requiredOption('--artifact-type <type>', 'the artifact type, e.g. application/spdx+json')
      .option('--annotation <key=value>', 'a manifest annotation (repeatable)', collect, [])
      .option('--concurrency <n>', 'blobs uploaded at once', '5')
      .action(run(async (ctx, args, opts: PushOpts & { artifactType: string }): Promise<CommandResult<ArtifactAttachSummary>> => {
        const [subject, ...files] = args;
        if (subject === undefined) throw usageError('MISSING_ARGUMENT', 'artifact attach needs the subject reference');
        const data = await withProgress(ctx, artifactPushSteps({ attach: true }), (ui) => artifactAttach({
          subject: parseReference(subject), files, artifactType: opts.artifactType, annotations: annotationsOf(opts.annotation),
          concurrency: concurrencyOf(opts.concurrency), plainHttp: ctx.plainHttp, env: ctx.env, signal: ctx.signal, onEvent: artifactPushProgress(ui),
        }));
        return {
          data,
          outputs: { reference: data.reference, digest: data.digest, subject: data.subject.reference },
          human: (d, style) => [
            ...pushedLines(d, style),
            `${style.dim('subject:')}       ${d.subject.reference}`,
            `${style.dim('referrers:')}     ${d.referrers.via === 'registry' ? 'indexed by the registry' : `tag ${d.referrers.tag ?? ''} (${d.referrers.entries ?? 0} referrers)`}`,
          ].join('\n'),
          summary: (d) => pushedSummary('artifact attach', d, [
            ['subject', mdCode(d.subject.reference)],
            ['referrers', d.referrers.via === 'registry' ? 'referrers API' : `tag ${mdCode(d.referrers.tag ?? '')} (${d.referrers.entries ?? 0})`],
          ]),
        };
      }));

    signatureOptions(subcommand(group, 'pull'))
      .argument('<reference>', 'registry/repository:tag or @sha256:… of the artifact')
      .description('pull an ORAS artifact: each titled layer to DIR/<title>, packed directories unpacked, everything verified')
      .option('--out <dir>', 'output directory', '.')
      .option('--force', 'replace a non-empty directory already at a packed directory\'s title')
      .option('--concurrency <n>', 'layers fetched at once', '3')
      .action(run(async (ctx, args, opts: SignatureFlags & { out: string; force?: boolean; concurrency: string }): Promise<CommandResult<ArtifactPullSummary>> => {
        const [reference] = args;
        if (reference === undefined) throw usageError('MISSING_ARGUMENT', 'artifact pull needs a reference');
        const signature = await signatureRequirementOf(opts);
        const data = await withProgress(ctx, artifactPullSteps({ signature: signature !== undefined }), (ui) => artifactPull({
          reference: hasTransport(reference) ? reference : parseReference(reference), outDir: path.resolve(opts.out), force: opts.force === true, concurrency: concurrencyOf(opts.concurrency), signature,
          plainHttp: ctx.plainHttp, env: ctx.env, signal: ctx.signal, onEvent: artifactPullProgress(ui, (l) => ctx.note(`warning: ${l}`)),
        }));
        return {
          data,
          outputs: { reference: data.reference, digest: data.digest, path: data.outDir, paths: data.files.map((f) => f.path).join('\n') },
          human: (d, style) => [
            d.reference,
            `${style.dim('digest:')} ${d.digest}`,
            ...d.files.map((f) => `  ${style.ok('verified')}  ${formatBytes(f.size).padStart(9)}  ${rel(f.path)}${f.kind === 'directory' ? `/ ${style.dim(`(${f.entries ?? 0} entries)`)}` : ''}`),
            ...(d.skipped.length > 0 ? [style.dim(`(${d.skipped.length} layer${d.skipped.length === 1 ? '' : 's'} without a title skipped)`)] : []),
          ].join('\n'),
          summary: (d) => [
            '### kairos-img artifact pull',
            mdTable(['', ''], [['reference', mdCode(d.reference)], ['digest', mdCode(d.digest)], ['output directory', mdCode(d.outDir)]]),
            mdTable(['file', 'size', 'digest', ''], d.files.map((f) => [`${f.title}${f.kind === 'directory' ? '/' : ''}`, formatBytes(f.size), mdCode(f.digest), f.entries === undefined ? 'verified' : `verified, ${f.entries} entries`])),
          ].join('\n\n'),
        };
      }));

    subcommand(group, 'discover')
      .argument('<reference>', 'registry/repository:tag or @sha256:… whose referrers to list')
      .description('list the referrers of a manifest (referrers API, or the referrers tag schema) as a tree')
      .option('--artifact-type <type>', 'only referrers of this artifact type')
      .option('--depth <n>', 'levels of referrers of referrers', '8')
      .action(run(async (ctx, args, opts: { artifactType?: string; depth: string }): Promise<CommandResult<ArtifactDiscoverSummary>> => {
        const [reference] = args;
        if (reference === undefined) throw usageError('MISSING_ARGUMENT', 'artifact discover needs a reference');
        const depth = Number(opts.depth);
        if (!Number.isInteger(depth) || depth < 1) throw usageError('BAD_OPTION', `--depth ${opts.depth} is not a positive number`);
        const data = await withProgress(ctx, artifactDiscoverSteps(), (ui) => artifactDiscover({
          reference: parseReference(reference), artifactType: opts.artifactType, depth,
          plainHttp: ctx.plainHttp, env: ctx.env, signal: ctx.signal, onEvent: artifactDiscoverProgress(ui),
        }));
        return {
          data,
          outputs: { reference: data.reference, digest: data.digest, count: String(data.referrers.length) },
          human: (d, style) => [
            `${d.reference.replace(/@.*$/, '')}@${d.digest}`,
            ...treeLines(d.referrers, '', style),
            ...(d.referrers.length === 0 ? [style.dim('(no referrers)')] : []),
          ].join('\n'),
          summary: (d) => {
            const flat: string[][] = [];
            const walk = (nodes: readonly DiscoveredReferrer[], depthNow: number): void => {
              for (const n of nodes) {
                flat.push([`${'↳ '.repeat(depthNow)}${n.artifactType ?? n.mediaType}`, mdCode(n.digest), formatBytes(n.size)]);
                walk(n.referrers, depthNow + 1);
              }
            };
            walk(d.referrers, 0);
            return ['### kairos-img artifact discover', `Referrers of ${mdCode(`${d.reference.replace(/@.*$/, '')}@${d.digest}`)} (${d.via === 'api' ? 'referrers API' : 'referrers tag schema'}):`,
              flat.length > 0 ? mdTable(['artifact type', 'digest', 'size'], flat) : 'none'].join('\n\n');
          },
        };
      }));
  },
};
