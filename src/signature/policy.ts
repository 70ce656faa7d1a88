/**
 * Who must have signed, pure: a public key (`--key`), or a keyless identity policy with cosign's
 * flag semantics (`--certificate-identity[-regexp]`, `--certificate-oidc-issuer[-regexp]`; a regexp
 * matches anywhere unless anchored, as Go's `regexp.MatchString` in cosign does). sigstore-js
 * compares a SAN with `String.match` and an issuer only exactly, so the matching is done here, on
 * the identity sigstore-js extracts from a verified certificate.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { KairosImgError, usageError } from '../errors.js';

export type Matcher = { kind: 'exact'; value: string } | { kind: 'regexp'; source: string; re: RegExp };

export type SignaturePolicy =
  | { kind: 'key'; key: KeyObject; /** Names the key in verdicts (its file). */ label: string }
  | { kind: 'identity'; identity: Matcher; issuer: Matcher; /** Where the policy comes from (flags, the catalog). */ label: string };

/** What the signer proved: the certificate's SAN and OIDC issuer (keyless), nothing for a key. */
export interface SignerIdentity {
  identity?: string | undefined;
  issuer?: string | undefined;
}

export interface IdentityFlags {
  certificateIdentity?: string | undefined;
  certificateIdentityRegexp?: string | undefined;
  certificateOidcIssuer?: string | undefined;
  certificateOidcIssuerRegexp?: string | undefined;
}

function matcher(exact: string | undefined, regexp: string | undefined, flag: string): Matcher | undefined {
  if (exact !== undefined && regexp !== undefined) {
    throw usageError('CONFLICTING_OPTIONS', `--${flag} and --${flag}-regexp both given`, `use one of them, as cosign does`);
  }
  if (exact !== undefined) return { kind: 'exact', value: exact };
  if (regexp === undefined) return undefined;
  try {
    return { kind: 'regexp', source: regexp, re: new RegExp(regexp) };
  } catch (e) {
    throw usageError('BAD_OPTION', `--${flag}-regexp ${JSON.stringify(regexp)} is not a valid regular expression: ${(e as Error).message}`);
  }
}

/** The keyless policy the flags describe; undefined when none is given. Both halves are required, as in cosign. */
export function identityPolicy(flags: IdentityFlags, label = 'the identity flags'): SignaturePolicy | undefined {
  const identity = matcher(flags.certificateIdentity, flags.certificateIdentityRegexp, 'certificate-identity');
  const issuer = matcher(flags.certificateOidcIssuer, flags.certificateOidcIssuerRegexp, 'certificate-oidc-issuer');
  if (identity === undefined && issuer === undefined) return undefined;
  if (identity === undefined) {
    throw usageError('MISSING_OPTION', 'keyless verification needs --certificate-identity or --certificate-identity-regexp too', 'name who signed, e.g. --certificate-identity-regexp "^https://github.com/kairos-io/"');
  }
  if (issuer === undefined) {
    throw usageError('MISSING_OPTION', 'keyless verification needs --certificate-oidc-issuer or --certificate-oidc-issuer-regexp too', 'GitHub Actions signs with --certificate-oidc-issuer https://token.actions.githubusercontent.com');
  }
  return { kind: 'identity', identity, issuer, label };
}

const EC_CURVES = ['prime256v1', 'secp384r1', 'secp521r1'];

/** A PEM public key as cosign accepts them: ECDSA P-256/384/521, RSA (2048 bits and more), Ed25519. */
export function parsePublicKey(pem: string, label: string): SignaturePolicy & { kind: 'key' } {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new KairosImgError('BAD_KEY', `${label} is not a PEM public key: ${(e as Error).message}`, {
      hint: 'pass the public key cosign wrote (cosign.pub, -----BEGIN PUBLIC KEY-----)',
    });
  }
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  const ok = (type === 'ec' && EC_CURVES.includes(details.namedCurve ?? '')) || (type === 'rsa' && (details.modulusLength ?? 0) >= 2048) || type === 'ed25519';
  if (!ok) {
    const what = type === 'ec' ? `an EC key on ${details.namedCurve ?? 'an unknown curve'}` : type === 'rsa' ? `a ${details.modulusLength ?? '?'}-bit RSA key` : `a ${type ?? 'unknown'} key`;
    throw new KairosImgError('BAD_KEY', `${label} is ${what}; cosign signs with ECDSA P-256/P-384/P-521, RSA (≥ 2048 bits) or Ed25519`, {});
  }
  return { kind: 'key', key, label };
}

function describe(m: Matcher): string {
  return m.kind === 'exact' ? JSON.stringify(m.value) : `/${m.source}/`;
}

function matches(m: Matcher, value: string): boolean {
  return m.kind === 'exact' ? m.value === value : m.re.test(value);
}

/** Why a verified signer does not satisfy the policy, or undefined when it does. */
export function identityProblem(policy: SignaturePolicy, signer: SignerIdentity): string | undefined {
  if (policy.kind === 'key') return undefined;
  if (signer.identity === undefined || signer.identity === '') return 'the certificate names no identity (subject alternative name)';
  if (!matches(policy.identity, signer.identity)) return `identity ${signer.identity} does not match ${describe(policy.identity)} (${policy.label})`;
  if (signer.issuer === undefined || signer.issuer === '') return 'the certificate names no OIDC issuer';
  if (!matches(policy.issuer, signer.issuer)) return `issuer ${signer.issuer} does not match ${describe(policy.issuer)} (${policy.label})`;
  return undefined;
}

/** The policy in words, for reports. */
export function describePolicy(policy: SignaturePolicy): string {
  if (policy.kind === 'key') return `key ${policy.label}`;
  return `identity ${describe(policy.identity)}, issuer ${describe(policy.issuer)} (${policy.label})`;
}
