/**
 * The signature flags every command that verifies or writes an image shares (cosign's names):
 * `--key FILE` | `--certificate-identity[-regexp]` + `--certificate-oidc-issuer[-regexp]`,
 * `--trusted-root FILE`, and `--require-signature` where a command would otherwise only inform.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { KairosImgError, usageError } from '../errors.js';
import type { SignatureRequirement } from '../operations/signature.js';
import { identityPolicy, parsePublicKey, type SignaturePolicy } from '../signature/policy.js';
import type { TrustedRoot } from '../signature/trust.js';

export interface SignatureFlags {
  key?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  trustedRoot?: string;
  requireSignature?: boolean;
}

export function signatureOptions(cmd: Command, opts: { require?: boolean } = {}): Command {
  cmd
    .option('--key <file>', 'verify the signature with this PEM public key (cosign.pub: ECDSA P-256, RSA, Ed25519)')
    .option('--certificate-identity <id>', 'keyless: the signer\'s identity (certificate SAN), exactly')
    .option('--certificate-identity-regexp <re>', 'keyless: a regular expression the identity must match (unanchored, as cosign)')
    .option('--certificate-oidc-issuer <url>', 'keyless: the OIDC issuer, exactly (GitHub Actions: https://token.actions.githubusercontent.com)')
    .option('--certificate-oidc-issuer-regexp <re>', 'keyless: a regular expression the issuer must match')
    .option('--trusted-root <file>', 'trusted_root.json for keyless verification (default: the Sigstore public-good root shipped with kairos-img)');
  if (opts.require === true) cmd.option('--require-signature', 'fail when the image has no signature that satisfies the policy (default for Kairos images: check any found)');
  return cmd;
}

/** The policy the flags name, or undefined when none is given; a key and an identity together are a usage error. */
export async function signaturePolicyOf(flags: SignatureFlags): Promise<SignaturePolicy | undefined> {
  const identity = identityPolicy(flags, 'the --certificate-* flags');
  if (flags.key !== undefined && identity !== undefined) {
    throw usageError('CONFLICTING_OPTIONS', '--key and --certificate-* flags both given', 'verify with a key (--key) or keyless (--certificate-identity… --certificate-oidc-issuer…), not both');
  }
  if (flags.key === undefined) return identity;
  let pem: string;
  try {
    pem = await readFile(flags.key, 'utf8');
  } catch (e) {
    throw new KairosImgError('BAD_KEY', `cannot read --key ${flags.key}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  return parsePublicKey(pem, path.basename(flags.key));
}

/** `--trusted-root`, read and validated now: a bad file is a usage error before any network traffic. */
export async function trustedRootOf(flags: SignatureFlags): Promise<TrustedRoot | undefined> {
  if (flags.trustedRoot === undefined) return undefined;
  // Loaded on use: the trust module brings sigstore-js, which runs without these flags never need.
  const { loadTrustedRoot } = await import('../signature/trust.js');
  return loadTrustedRoot(path.resolve(flags.trustedRoot));
}

/** The requirement for the gate of a command that writes: undefined when no flag asks for one. */
export async function signatureRequirementOf(flags: SignatureFlags, opts: { trustedRootAlone?: boolean } = {}): Promise<SignatureRequirement | undefined> {
  const policy = await signaturePolicyOf(flags);
  const trustedRoot = await trustedRootOf(flags);
  if (policy === undefined) {
    if (trustedRoot !== undefined && opts.trustedRootAlone !== true) throw usageError('MISSING_OPTION', '--trusted-root needs --certificate-identity… and --certificate-oidc-issuer… (or --key)', 'name who must have signed');
    return undefined;
  }
  return { policy, ...(trustedRoot === undefined ? {} : { trustedRoot }) };
}
