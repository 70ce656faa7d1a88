/**
 * The Kairos release signing policy, held as data in flavors/kairos.yaml (`signing:` issuer and
 * identity pattern of the release workflows), and which images it applies to: Kairos' registry
 * namespace (quay.io/kairos/*), also when `--registry` serves it. A small loader of its own until
 * the catalog's types carry the section.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { KairosImgError } from '../errors.js';
import type { Reference } from '../reference/reference.js';
import { identityPolicy, type SignaturePolicy } from './policy.js';

export interface KairosSigning {
  registry: string;
  namespace: string;
  policy: SignaturePolicy & { kind: 'identity' };
}

export function kairosCatalogFile(): string {
  return fileURLToPath(new URL('../../flavors/kairos.yaml', import.meta.url));
}

/** The `signing:` section of the catalog text, validated. */
export function parseKairosSigning(text: string, source: string): KairosSigning {
  const doc = parseYaml(text) as { registry?: unknown; namespace?: unknown; signing?: { issuer?: unknown; identityRegexp?: unknown } } | null;
  const s = doc?.signing;
  if (typeof doc?.registry !== 'string' || typeof doc.namespace !== 'string' || typeof s?.issuer !== 'string' || typeof s.identityRegexp !== 'string') {
    throw new KairosImgError('CATALOG_INVALID', `${source}: signing.issuer and signing.identityRegexp (strings) are required`, { hint: 'fix the signing section of the catalog' });
  }
  const policy = identityPolicy({ certificateOidcIssuer: s.issuer, certificateIdentityRegexp: s.identityRegexp }, 'the Kairos release policy') as KairosSigning['policy'];
  return { registry: doc.registry, namespace: doc.namespace, policy };
}

let cached: Promise<KairosSigning> | undefined;

export function loadKairosSigning(file = kairosCatalogFile()): Promise<KairosSigning> {
  cached ??= readFile(file, 'utf8').then((t) => parseKairosSigning(t, file));
  return cached;
}

/** True for images of Kairos' namespace on its registry, or on `mirror` (`--registry`) that stands in for it. */
export function isKairosImage(ref: Pick<Reference, 'registry' | 'repository'>, signing: Pick<KairosSigning, 'registry' | 'namespace'>, mirror?: string | undefined): boolean {
  return ref.repository.startsWith(`${signing.namespace}/`) && (ref.registry === signing.registry || (mirror !== undefined && ref.registry === mirror));
}
