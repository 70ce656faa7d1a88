/**
 * The signature gate of every command that writes (pull, unpack, extract-img; artifact pull and
 * mirror call it the same way): called once the manifest is known and before any layer is fetched
 * or anything is written. Without a requirement it does nothing; with one, an image no signature
 * of which satisfies the policy stops the command with a verification error (exit 3).
 * The verifier (sigstore-js, the trusted root) is loaded only when there is a requirement: most
 * runs against a private registry have none, and it costs ~80 ms of start-up.
 */
import { readFile } from 'node:fs/promises';
import { KairosImgError } from '../errors.js';
import type { Reference } from '../reference/reference.js';
import { describePolicy } from '../signature/policy.js';
import type { ManifestResult, RegistryClient } from '../registry/index.js';
import type { SignatureCheckedEvent } from './events.js';
import type { SignatureReport, SignatureRequirement } from './signature.js';

export async function signatureGate(opts: {
  requirement: SignatureRequirement | undefined;
  client: RegistryClient;
  reference: Reference;
  manifest: Pick<ManifestResult, 'descriptor' | 'raw' | 'index'>;
  signal?: AbortSignal | undefined;
  emit: (e: SignatureCheckedEvent) => void;
}): Promise<SignatureReport | undefined> {
  if (opts.requirement === undefined) return undefined;
  const { checkedEvent, checkImageSignatures, signatureFailure } = await import('./signature.js');
  const report = await checkImageSignatures({ client: opts.client, reference: opts.reference, manifest: opts.manifest, requirement: opts.requirement, signal: opts.signal });
  opts.emit(checkedEvent(report));
  if (!report.verified) throw signatureFailure(report);
  return report;
}

/** A checksum file's `cosign sign-blob` bundle and its verdict. */
export interface SignedBlob {
  file: string;
  bundle: string;
  verified: boolean;
  reason: string;
  identity?: string | undefined;
  issuer?: string | undefined;
}

/** sign-blob bundles sit beside the file they sign: `<name>.sha256.bundle` (kairos-factory-action). */
const BUNDLE_SUFFIXES = ['.bundle', '.sigstore.json'];
const SIGNED_FILE_CAP = 1024 * 1024;

/**
 * The same gate for the files of an artifact (extract-img): each checksum file that carries a
 * sign-blob bundle is verified with the policy before anything gets its final name; one that does
 * not verify discards the extraction (exit 3). A checksum file without a bundle is not a failure
 * (older releases carry none).
 */
export function signedBlobsCheck(requirement: SignatureRequirement | undefined): { results: SignedBlob[]; check: (staged: ReadonlyArray<{ name: string; path: string; role: string; size: number }>) => Promise<void> } | undefined {
  if (requirement === undefined) return undefined;
  const results: SignedBlob[] = [];
  return {
    results,
    async check(staged) {
      const [{ loadTrustedRoot }, { verifyBlobBundle }] = await Promise.all([import('../signature/trust.js'), import('../signature/blob.js')]);
      const root = typeof requirement.trustedRoot === 'object' ? requirement.trustedRoot : await loadTrustedRoot(requirement.trustedRoot);
      for (const file of staged.filter((f) => f.role === 'checksum')) {
        const bundle = staged.find((b) => BUNDLE_SUFFIXES.some((s) => b.name === `${file.name}${s}`));
        if (bundle === undefined || bundle.size > SIGNED_FILE_CAP || file.size > SIGNED_FILE_CAP) continue;
        const v = verifyBlobBundle({ bundleText: await readFile(bundle.path, 'utf8'), blob: await readFile(file.path), policy: requirement.policy, trustedRoot: root });
        results.push({ file: file.name, bundle: bundle.name, verified: v.verified, reason: v.reason, identity: v.signer?.identity, issuer: v.signer?.issuer });
        if (!v.verified) {
          throw new KairosImgError('SIGNATURE_NOT_VERIFIED', `${file.name}: its sign-blob bundle ${bundle.name} does not satisfy ${describePolicy(requirement.policy)}: ${v.reason}`, {
            hint: 'the checksum file is not the one the release signed; nothing was kept in the output directory', details: { signedFiles: results },
          });
        }
      }
    },
  };
}
