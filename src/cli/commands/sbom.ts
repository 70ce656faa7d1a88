import path from 'node:path';
import type { Command } from 'commander';
import { sbom, type SbomReport } from '../../operations/sbom.js';
import { withProgress } from '../progress/index.js';
import { sbomProgress, sbomSteps } from '../progress/signature.js';
import { formatBytes, type CommandResult, type Style } from '../render.js';
import { parseTarget } from '../target.js';
import { imageOptions, type ImageOptions } from '../image-options.js';
import type { CommandSpec } from '../command.js';
import { imageSpec } from '../resolve-target.js';
import { signatureOptions, signatureRequirementOf, type SignatureFlags } from '../signature-options.js';

const USAGE = 'kairos-img sbom <image> [--out DIR] [--json] [--key FILE | --certificate-identity… --certificate-oidc-issuer…]';

function human(d: SbomReport, style: Style): string {
  const lines = [d.reference, `${style.dim('digest:')} ${d.digest}`];
  if (d.attachments.length === 0) lines.push('no SBOM or attestation attached (no .sbom/.att tag, no referrer, no attestation manifest in the index)');
  for (const a of d.attachments) {
    const mark = a.verified === undefined ? style.dim('-') : a.verified ? style.ok('✓') : style.bad('✗');
    const what = `${a.kind} ${a.format}${a.predicateType === undefined ? '' : ` (${a.predicateType})`}`;
    lines.push(`${mark} ${what.padEnd(48)} ${formatBytes(a.size).padStart(9)}  ${a.digest.slice(0, 19)}…  ${style.dim(a.where)}`);
    if (a.reason !== undefined) lines.push(`    ${style.dim(a.reason)}`);
    if (a.path !== undefined) lines.push(`    ${style.dim('saved:')} ${path.relative(process.cwd(), a.path) || a.path}`);
  }
  return lines.join('\n');
}

export const sbomCommand: CommandSpec = {
  register(program: Command, run) {
    signatureOptions(imageOptions(
      program
        .command('sbom')
        .argument('<image...>', '<flavor> <variant>, or a full image reference')
        .description('list (and download) the SBOMs and attestations attached to an image: cosign .sbom/.att tags, OCI referrers, attestation manifests in the index')
        .option('--out <dir>', 'download every attachment into this directory'),
    ))
      .addHelpText('after', ['', 'Examples:', '  kairos-img sbom quay.io/kairos/hadron:v0.2.0-core-amd64-generic-v4.1.0', '  kairos-img sbom ubuntu-22-lts core --version v2.4.3 --out sboms/ --json'].join('\n'))
      .action(run(async (ctx, args, opts: ImageOptions & SignatureFlags & { out?: string }): Promise<CommandResult<SbomReport>> => {
        const requirement = await signatureRequirementOf(opts);
        const target = parseTarget(args, { usage: USAGE });
        const image = await imageSpec(ctx, target, opts);
        const data = await withProgress(ctx, sbomSteps(), (ui) => sbom({
          image, outDir: opts.out, signature: requirement, arch: opts.arch, registry: ctx.registry, plainHttp: ctx.plainHttp, hostArch: ctx.hostArch,
          env: ctx.env, signal: ctx.signal, onEvent: sbomProgress(ui),
        }));
        const failed = requirement !== undefined && data.attachments.some((a) => a.verified === false && (a.format === 'dsse' || a.format === 'sigstore-bundle'));
        return { data, human, outputs: { reference: data.reference, digest: data.digest }, ...(failed ? { exitCode: 3 } : {}) };
      }));
  },
};
