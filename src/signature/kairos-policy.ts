/**
 * The Kairos release signing policy — the `signing:` section of flavors/kairos.yaml (OIDC issuer
 * and identity pattern of the release workflows, validated with the rest of the catalog) — and
 * which images it applies to: Kairos' registry namespace (quay.io/kairos/*), also when
 * `--registry` serves it. Pure.
 */
import type { Catalog } from '../catalog/index.js';
import type { Reference } from '../reference/reference.js';
import { identityPolicy, type SignaturePolicy } from './policy.js';

export interface KairosSigning {
  registry: string;
  namespace: string;
  policy: SignaturePolicy & { kind: 'identity' };
}

/** The catalog's signing policy, or undefined when the catalog names none. */
export function kairosSigning(catalog: Pick<Catalog, 'registry' | 'namespace' | 'signing'>): KairosSigning | undefined {
  const s = catalog.signing;
  if (s === undefined) return undefined;
  const policy = identityPolicy({ certificateOidcIssuer: s.issuer, certificateIdentityRegexp: s.identityRegexp }, 'the Kairos release policy') as KairosSigning['policy'];
  return { registry: catalog.registry, namespace: catalog.namespace, policy };
}

/** True for images of Kairos' namespace on its registry, or on `mirror` (`--registry`) that stands in for it. */
export function isKairosImage(ref: Pick<Reference, 'registry' | 'repository'>, signing: Pick<KairosSigning, 'registry' | 'namespace'>, mirror?: string | undefined): boolean {
  return ref.repository.startsWith(`${signing.namespace}/`) && (ref.registry === signing.registry || (mirror !== undefined && ref.registry === mirror));
}
