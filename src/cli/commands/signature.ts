import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { verifyImageSignature, type SignatureReport } from '../../operations/signature.js';
import { withProgress } from '../progress/index.js';
import { signatureProgress, signatureSteps } from '../progress/signature.js';
import type { CommandResult, Style } from '../render.js';
import { parseTarget } from '../target.js';
import { imageOptions, type ImageOptions } from '../image-options.js';
import type { CommandSpec } from '../command.js';
import { imageSpec } from '../resolve-target.js';
import { signatureOptions, signatureRequirementOf, type SignatureFlags } from '../signature-options.js';

const USAGE = 'kairos-img signature verify <image> (--key FILE | --certificate-identity[-regexp] X --certificate-oidc-issuer[-regexp] Y) [--trusted-root FILE] [--json]';

/** The --json document: `{reference, digest, verified, signatures: [{scheme, verified, reason, identity?, issuer?}]}` (plus where each was found). */
function json(r: SignatureReport): Record<string, unknown> {
  return {
    reference: r.reference,
    digest: r.digest,
    verified: r.verified,
    policy: r.policy,
    signatures: r.signatures.map((s) => ({
      scheme: s.scheme, verified: s.verified, reason: s.reason,
      ...(s.identity === undefined ? {} : { identity: s.identity }), ...(s.issuer === undefined ? {} : { issuer: s.issuer }),
      digest: s.digest, where: s.where,
    })),
  };
}

export function signatureLines(r: SignatureReport, style: Style): string[] {
  if (r.signatures.length === 0) return [`${style.bad('✗')} no signature found (no cosign .sig tag, no Sigstore bundle referrer)`];
  return r.signatures.map((s) => {
    const who = s.identity === undefined ? '' : ` ${style.dim(`[${s.identity}${s.issuer === undefined ? '' : ` via ${s.issuer}`}]`)}`;
    return `${s.verified ? style.ok('✓') : style.bad('✗')} ${s.scheme.padEnd(15)} ${s.reason}${who} ${style.dim(s.where)}`;
  });
}

function human(d: ReturnType<typeof json>, r: SignatureReport, style: Style): string {
  return [
    r.reference,
    `${style.dim('digest:')} ${r.digest}`,
    `${style.dim('policy:')} ${r.policy}`,
    ...signatureLines(r, style),
    d.verified === true ? style.ok('signature verified') : style.bad('no signature satisfies the policy'),
  ].join('\n');
}

export const signatureCommand: CommandSpec = {
  register(program: Command, run) {
    const sig = program.command('signature').description('cosign signatures of images (legacy .sig tags and Sigstore bundles)')
      .addHelpText('after', '\nExamples:\n  kairos-img signature verify <image> --key cosign.pub\n  kairos-img signature verify <image> --certificate-identity-regexp "^https://github.com/kairos-io/" --certificate-oidc-issuer https://token.actions.githubusercontent.com');
    const verify = sig.command('verify');
    // The program adds the global options (--json, --quiet, …) to its own commands only.
    for (const option of sig.options) verify.addOption(option);
    signatureOptions(imageOptions(
      verify
        .argument('<image...>', '<flavor> <variant>, or a full image reference')
        .description('verify an image\'s cosign signatures: exit 0 when one satisfies the policy, 3 when none does'),
    ))
      .addHelpText('after', [
        '',
        'Examples:',
        '  kairos-img signature verify quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.4.2 \\',
        '    --certificate-identity-regexp "^https://github.com/kairos-io/" --certificate-oidc-issuer https://token.actions.githubusercontent.com',
        '  kairos-img signature verify registry.example/os/image:v1 --key cosign.pub --json',
      ].join('\n'))
      .action(run(async (ctx, args, opts: ImageOptions & SignatureFlags): Promise<CommandResult<Record<string, unknown>>> => {
        const requirement = await signatureRequirementOf(opts);
        if (requirement === undefined) {
          throw usageError('MISSING_OPTION', 'name who must have signed: --key FILE, or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]', `usage: ${USAGE}`);
        }
        const target = parseTarget(args, { usage: USAGE });
        const image = await imageSpec(ctx, target, opts);
        const report = await withProgress(ctx, signatureSteps(), (ui) => verifyImageSignature({
          image, signature: requirement, arch: opts.arch, registry: ctx.registry, plainHttp: ctx.plainHttp, hostArch: ctx.hostArch,
          env: ctx.env, signal: ctx.signal, onEvent: signatureProgress(ui),
        }));
        const data = json(report);
        return {
          data,
          human: (d, style) => human(d, report, style),
          outputs: { reference: report.reference, digest: report.digest, verified: String(report.verified) },
          ...(report.verified ? {} : { exitCode: 3 }),
        };
      }));
  },
};
