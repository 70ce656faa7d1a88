/**
 * The signature gate of every command that writes (pull, unpack, extract-img; artifact pull and
 * mirror call it the same way): called once the manifest is known and before any layer is fetched
 * or anything is written. Without a requirement it does nothing; with one, an image no signature
 * of which satisfies the policy stops the command with a verification error (exit 3).
 */
import type { Reference } from '../reference/reference.js';
import type { ManifestResult, RegistryClient } from '../registry/index.js';
import type { SignatureCheckedEvent } from './events.js';
import { checkedEvent, checkImageSignatures, signatureFailure, type SignatureReport, type SignatureRequirement } from './signature.js';

export async function signatureGate(opts: {
  requirement: SignatureRequirement | undefined;
  client: RegistryClient;
  reference: Reference;
  manifest: Pick<ManifestResult, 'descriptor' | 'raw' | 'index'>;
  signal?: AbortSignal | undefined;
  emit: (e: SignatureCheckedEvent) => void;
}): Promise<SignatureReport | undefined> {
  if (opts.requirement === undefined) return undefined;
  const report = await checkImageSignatures({ client: opts.client, reference: opts.reference, manifest: opts.manifest, requirement: opts.requirement, signal: opts.signal });
  opts.emit(checkedEvent(report));
  if (!report.verified) throw signatureFailure(report);
  return report;
}
