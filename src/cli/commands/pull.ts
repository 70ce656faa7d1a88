import type { Command } from 'commander';
import { parseDestination, pull, type PullSummary } from '../../operations/pull.js';
import { pullToEngine, type EnginePullSummary } from '../../operations/engine-pull.js';
import { withProgress } from '../progress/index.js';
import { pullProgress, pullSteps } from '../progress/pull.js';
import { enginePullProgress, enginePullSteps } from '../progress/engine-pull.js';
import { formatBytes, type CommandResult, type Style } from '../render.js';
import { parseTarget } from '../target.js';
import { imageOptions, type ImageOptions } from '../image-options.js';
import { usageError } from '../../errors.js';
import type { CommandSpec } from '../command.js';
import { imageSpec } from '../resolve-target.js';
import { signatureOptions, signatureRequirementOf, type SignatureFlags } from '../signature-options.js';

const USAGE = 'kairos-img pull <flavor> <variant> | <reference> [--to oci:DIR[:TAG] | --to docker [--from-cache]]';

export const pullCommand: CommandSpec = {
  register(program: Command, run) {
    signatureOptions(imageOptions(
      program
        .command('pull')
        .argument('<image...>', '<flavor> <variant>, or a full image reference')
        .description('pull an image daemonless into the cache, and optionally into an OCI layout')
        .option('--to <dest>', 'oci:DIR[:TAG] writes an OCI image layout (skopeo/umoci read it); docker: the Docker engine pulls it (DOCKER_HOST); default: the cache only')
        .option('--from-cache', 'with --to docker: load the cached image into the engine, without the registry')
        .option('--concurrency <n>', 'layers fetched at once', '3'),
    ))
      .addHelpText('after', [
        '',
        'Examples:',
        '  kairos-img pull ubuntu-22-lts standard',
        '  kairos-img pull opensuse core --version v1.4.0 --to oci:./core-opensuse',
        '  kairos-img pull quay.io/kairos/core-alpine-arm-rpi:v1.1.7 --arch arm64',
        '  kairos-img pull ubuntu-22-lts standard --to docker',
        '  kairos-img pull opensuse core --version v1.4.0 --to docker --from-cache',
      ].join('\n'))
      .action(run(async (ctx, args, opts: ImageOptions & SignatureFlags & { to?: string; concurrency: string; fromCache?: boolean }): Promise<CommandResult<PullSummary> | CommandResult<EnginePullSummary>> => {
        const to = parseDestination(opts.to);
        if (opts.fromCache === true && to.kind !== 'docker') {
          throw usageError('CONFLICTING_OPTIONS', '--from-cache applies to --to docker only', 'add --to docker, or leave --from-cache out');
        }
        const concurrency = Number(opts.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
          throw usageError('BAD_OPTION', `--concurrency ${opts.concurrency} is not a number from 1 to 16`);
        }
        const signature = await signatureRequirementOf(opts);
        if (signature !== undefined && to.kind === 'docker') {
          throw usageError('CONFLICTING_OPTIONS', 'the signature flags gate the daemonless pull; the Docker engine pulls by itself', 'pull into the cache or --to oci:DIR with the signature flags, then --to docker --from-cache');
        }
        const target = parseTarget(args, { usage: USAGE });
        const image = await imageSpec(ctx, target, opts);
        const common = {
          image, registry: ctx.registry, plainHttp: ctx.plainHttp, arch: opts.arch, cacheDir: ctx.cacheDir,
          signal: ctx.signal, env: ctx.env, hostArch: ctx.hostArch,
        };
        if (to.kind === 'docker') {
          const fromCache = opts.fromCache === true;
          const e = await withProgress(ctx, enginePullSteps({ fromCache }), (ui) => pullToEngine({ ...common, fromCache, onEvent: enginePullProgress(ui) }));
          return {
            data: e,
            outputs: { reference: e.reference, digest: e.digest, 'image-id': e.imageId },
            human: (d: EnginePullSummary, style: Style) => [
              `${d.name ?? d.reference}`,
              `${style.dim('image ID:')} ${d.imageId}`,
              `${style.dim('digest:')}   ${d.repoDigests.length > 0 ? d.repoDigests.join(', ') : `${d.digest} ${style.dim('(cached manifest; docker load records no registry digest)')}`}`,
              `${style.dim('platform:')} ${d.platform}, ${d.layers} layers, ${d.source === 'cache' ? 'loaded from the cache' : d.upToDate ? 'already up to date' : 'pulled by the engine'}`,
              `${style.dim('engine:')}   Docker ${d.engine.version} at ${d.engine.host}`,
            ].join('\n'),
          };
        }
        const data = await withProgress(ctx, pullSteps({ layout: to.kind === 'oci', signature: signature !== undefined }), (ui) => pull({ ...common, to, concurrency, signature, onEvent: pullProgress(ui) }));
        const outputs: Record<string, string> = { reference: data.reference, digest: data.digest };
        if (data.layout !== undefined) outputs['path'] = data.layout.dir;
        return {
          data,
          outputs,
          human: (d: PullSummary, style: Style) => [
            `${d.reference}`,
            `${style.dim('digest:')}   ${d.digest}${d.indexDigest === undefined ? '' : ` ${style.dim(`(index ${d.indexDigest})`)}`}`,
            `${style.dim('platform:')} ${d.platform}, ${d.layers} layers, ${formatBytes(d.size)} (${d.fetched} blobs fetched, ${d.cached} cached)`,
            d.layout === undefined ? `${style.dim('cache:')}    ${d.cache}` : `${style.dim('layout:')}   oci:${d.layout.dir}:${d.layout.tag}`,
          ].join('\n'),
        };
      }));
  },
};
