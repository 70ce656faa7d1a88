/**
 * `sbom`: what is attached to an image (SBOMs, attestations) from the three places it may be,
 * each with its type, size and digest; optionally downloaded (`outDir`), each blob streamed through
 * digest verification into a temporary name and renamed only when every one is in; attestations'
 * DSSE envelopes verified with a signature policy when one is given.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { formatReference } from '../reference/reference.js';
import { findAttachments, type Attachment } from '../signature/attachments.js';
import { loadTrustedRoot } from '../signature/trust.js';
import { verifyAttestation } from '../signature/verify.js';
import { getManifestExplained } from './client.js';
import { lazyClient, resolveTarget, type ImageSpec, type OperationOptions } from './common.js';
import { emitter, type SbomEvent } from './events.js';
import { signedSubjects, type SignatureRequirement } from './signature.js';
import { signatureSource } from './signature-source.js';

export interface SbomOptions extends OperationOptions<SbomEvent> {
  image: ImageSpec;
  /** Download every attachment into this directory. */
  outDir?: string | undefined;
  /** Verify attestations' signatures with this policy. */
  signature?: SignatureRequirement | undefined;
}

export type SbomEntry = Omit<Attachment, 'descriptor'> & {
  path?: string | undefined;
  verified?: boolean | undefined;
  reason?: string | undefined;
  identity?: string | undefined;
  issuer?: string | undefined;
};

export interface SbomReport {
  reference: string;
  digest: string;
  attachments: SbomEntry[];
  outDir?: string | undefined;
}

/** Attestations are JSON documents held in memory to verify; larger ones are reported, not parsed. */
const ATTESTATION_CAP = 64 * 1024 * 1024;

const EXTENSION: Record<Attachment['format'], string> = {
  spdx: '.spdx.json', cyclonedx: '.cdx.json', 'in-toto': '.intoto.json', dsse: '.dsse.json', 'sigstore-bundle': '.sigstore.json', other: '.bin',
};

export function attachmentFileName(a: Pick<Attachment, 'place' | 'kind' | 'format' | 'digest' | 'mediaType'>): string {
  const ext = a.format === 'cyclonedx' && a.mediaType.includes('xml') ? '.cdx.xml' : EXTENSION[a.format];
  return `${a.kind}-${a.place}-${a.digest.slice(7, 19)}${ext}`;
}

export async function sbom(opts: SbomOptions): Promise<SbomReport> {
  const emit = emitter(opts.onEvent);
  const { signal } = opts;
  const client = lazyClient(opts, emit);
  const target = await resolveTarget({ ...opts, tags: client.tags(), emit });
  const ref = target.reference;
  const m = await getManifestExplained(client.get(), ref, { platform: target.platform, signal });
  emit({ type: 'manifest', digest: m.descriptor.digest, indexDigest: m.index?.descriptor.digest, layers: m.manifest.layers.length, size: m.manifest.layers.reduce((a, l) => a + l.size, 0), fromCache: false });
  const subjects = signedSubjects(m);
  const found = await findAttachments({ source: signatureSource(client.get()), repo: ref, subjects: subjects.map((s) => s.digest), index: m.index?.manifest, signal });
  emit({ type: 'attachments', found: found.length });

  const root = opts.signature === undefined ? undefined : typeof opts.signature.trustedRoot === 'object' ? opts.signature.trustedRoot : await loadTrustedRoot(opts.signature.trustedRoot);
  const entries: SbomEntry[] = [];
  for (const a of found) {
    const { descriptor, ...rest } = a;
    const entry: SbomEntry = { ...rest };
    if (opts.signature !== undefined && root !== undefined && (a.kind === 'attestation' || a.format === 'dsse' || a.format === 'sigstore-bundle' || a.format === 'in-toto')) {
      if (a.size > ATTESTATION_CAP) {
        Object.assign(entry, { verified: false, reason: `larger than ${ATTESTATION_CAP} bytes: not verified` });
      } else {
        const blob = await client.get().fetchBlobToBuffer(ref, descriptor, { signal, cap: ATTESTATION_CAP });
        const v = verifyAttestation({ blob, format: a.format, annotations: descriptor.annotations ?? {}, digest: a.subject, policy: opts.signature.policy, trustedRoot: root });
        Object.assign(entry, { verified: v.verified, reason: v.reason, ...(v.signer?.identity === undefined ? {} : { identity: v.signer.identity }), ...(v.signer?.issuer === undefined ? {} : { issuer: v.signer.issuer }) });
      }
    }
    entries.push(entry);
  }

  if (opts.outDir !== undefined) {
    const dir = path.resolve(opts.outDir);
    await mkdir(dir, { recursive: true });
    const staged: Array<{ temp: string; final: string }> = [];
    try {
      for (const [i, a] of found.entries()) {
        const final = path.join(dir, attachmentFileName(a));
        const temp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
        staged.push({ temp, final });
        await pipeline(client.get().fetchBlob(ref, a.descriptor, { signal }), createWriteStream(temp, { flags: 'wx' }), { signal });
        (entries[i] as SbomEntry).path = final;
      }
      for (const s of staged) await rename(s.temp, s.final);
    } catch (e) {
      await Promise.all(staged.map((s) => rm(s.temp, { force: true })));
      throw e;
    }
    for (const [i, a] of found.entries()) emit({ type: 'attachment-saved', digest: a.digest, path: (entries[i] as SbomEntry).path ?? '', size: a.size });
  }
  return { reference: formatReference(ref), digest: (subjects[0] as { digest: string }).digest, attachments: entries, ...(opts.outDir === undefined ? {} : { outDir: path.resolve(opts.outDir) }) };
}
