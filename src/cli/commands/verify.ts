import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { loadCatalog } from '../../catalog/index.js';
import type { Check } from '../../policy/image-checks.js';
import { verify, type VerifyOptions, type VerifyReport } from '../../operations/verify.js';
import { withProgress } from '../progress/index.js';
import { verifyProgress, verifySteps } from '../progress/verify.js';
import { formatBytes, type CommandResult, type Style } from '../render.js';
import { parseTarget } from '../target.js';
import { imageOptions, type ImageOptions } from '../image-options.js';
import type { CommandSpec } from '../command.js';
import { imageSpec } from '../resolve-target.js';
import { signatureOptions, signatureRequirementOf, trustedRootOf, type SignatureFlags } from '../signature-options.js';
import { signatureLines } from './signature.js';

const USAGE = 'kairos-img verify <flavor> <variant> | <reference> [--version V] [--k3s K] [--arch A] [--offline]';

function mark(c: Check, style: Style): string {
  if (c.info === true) return style.dim('i');
  if (c.ok === 'skipped') return style.dim('−');
  return c.ok ? style.ok('✓') : style.bad('✗');
}

function human(d: VerifyReport, style: Style): string {
  const width = Math.max(...d.checks.map((c) => c.id.length));
  const lines = [d.reference];
  if (d.digest !== undefined) {
    const platform = d.platform === undefined ? '' : ` ${style.dim(`(${d.platform}${d.manifestDigest !== d.digest ? ` ${d.manifestDigest ?? ''}` : ''})`)}`;
    lines.push(`${style.dim('digest:')} ${d.digest}${platform}`);
  }
  if (d.read !== undefined) {
    lines.push(style.dim(`read ${d.read.layersRead} of ${d.read.layersTotal} layers (${formatBytes(d.read.bytesRead)} of ${formatBytes(d.read.bytesTotal)})`));
  }
  for (const c of d.checks) lines.push(`${mark(c, style)} ${c.id.padEnd(width)}  ${c.message}`);
  if (d.signature !== undefined && d.signature.signatures.length > 0) lines.push(...signatureLines(d.signature, style).map((l) => `  ${l}`));
  const failed = d.checks.filter((c) => c.ok === false).length;
  lines.push(d.ok ? style.ok('verified') : style.bad(`${failed} check${failed === 1 ? '' : 's'} failed`));
  return lines.join('\n');
}

export const verifyCommand: CommandSpec = {
  register(program: Command, run) {
    signatureOptions(imageOptions(
      program
        .command('verify')
        .argument('<image...>', '<flavor> <variant>, or a full image reference')
        .description('check an image against its tag, the versioning policy and its flavor\'s upstream pin (exit 3 when a check fails); --offline: the tag grammar only'),
    ), { require: true })
      .addHelpText('after', [
        '',
        'Checks: tag-grammar, support (versioning policy), kairos-release (release keys vs the tag),',
        'upstream-pin (distribution release vs the catalog pin), arch, signatures (cosign: with --key or',
        '--certificate-* flags, or for Kairos images the release policy of flavors/kairos.yaml; a signature',
        'found that fails it fails the check, none found is information unless --require-signature).',
        'Only the top layers that hold the release files are downloaded.',
        '',
        'Examples:',
        '  kairos-img verify quay.io/kairos/core-opensuse:v1.4.0',
        '  kairos-img verify ubuntu-22-lts core --version v2.3.1 --json',
        '  kairos-img verify quay.io/kairos/core-opensuse:v1.4 --offline',
      ].join('\n'))
      .action(run(async (ctx, args, imageOpts: ImageOptions & SignatureFlags): Promise<CommandResult<VerifyReport>> => {
        // --offline is a global option (mirrors only); for verify it also means: the tag grammar only.
        const opts = { ...imageOpts, offline: ctx.offline };
        const target = parseTarget(args, { usage: USAGE });
        const image = await imageSpec(ctx, target, opts);
        if (opts.offline === true && target.kind === 'catalog' && opts.version === undefined) {
          throw usageError('MISSING_INPUT', '--offline needs --version to name the image without the registry', `usage: ${USAGE}`);
        }
        const signature = await signatureRequirementOf(opts, { trustedRootAlone: true });
        const trustedRoot = await trustedRootOf(opts);
        const catalog = await loadCatalog('kairos');
        const vopts: VerifyOptions = {
          image, arch: opts.arch, registry: ctx.registry, plainHttp: ctx.plainHttp, hostArch: ctx.hostArch, signal: ctx.signal,
          env: ctx.env, catalog, offline: opts.offline, signature, requireSignature: opts.requireSignature, trustedRoot,
        };
        const data = opts.offline === true
          ? await verify(vopts)
          : await withProgress(ctx, verifySteps(), (ui) => verify({ ...vopts, onEvent: verifyProgress(ui) }));
        const outputs: Record<string, string> = { reference: data.reference, ok: String(data.ok) };
        if (data.digest !== undefined) outputs['digest'] = data.digest;
        return { data, outputs, human, ...(data.ok ? {} : { exitCode: 3 }) };
      }));
  },
};
