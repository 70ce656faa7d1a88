/**
 * `verify`: name the image → manifest → tag list → config → release files (top layers only) →
 * the checks of src/policy/image-checks.ts. `offline` checks the tag grammar alone, with no network.
 */
import { loadCatalog, normalizeArch, resolveImage as resolveCatalogImage, type Catalog } from '../catalog/index.js';
import {
  allPassed,
  checkArch,
  checkKairosRelease,
  checkSignatures,
  checkSupport,
  checkTagGrammar,
  checkUpstreamPin,
  type Check,
  type SignatureOutcome,
} from '../policy/image-checks.js';
import { usageError } from '../errors.js';
import { flavorByName, identifyFlavor, type FlavorIdentity } from '../policy/image-flavor.js';
import { RELEASE_FILES, releaseFilesDecided } from '../policy/release-files.js';
import { parseTag, type ReleaseTag } from '../policy/tag.js';
import { variantOf } from '../policy/rules.js';
import { formatReference, repositoryName, type Reference } from '../reference/reference.js';
import { flavorListing } from './tags.js';
import { layerBlobs, releaseFilesOf } from './image-files.js';
import { SMALL_BLOB_CAP, type RegistryClient } from '../registry/index.js';
import { formatPlatform, hostArch as defaultHostArch } from '../oci/index.js';
import { readSmallBlob } from '../store/sources/index.js';
import { defaultCacheDir } from '../store/index.js';
import { readImageFiles, type ReadFilesResult } from '../unpack/read-files.js';
import { isCatalogName, lazyClient, withImage, referenceOf, sourceOf, type ImageSpec, type OpenedImage, type OperationOptions } from './common.js';
import { emitter, type VerifyEvent } from './events.js';
import { isKairosImage, kairosSigning } from '../signature/kairos-policy.js';
import { checkedEvent, checkImageSignatures, type SignatureReport, type SignatureRequirement } from './signature.js';

export interface VerifyOptions extends OperationOptions<VerifyEvent> {
  image: ImageSpec;
  /** Where a compressed archive or the engine's save stream is spooled (default: the cache directory). */
  cacheDir?: string | undefined;
  /** Check the tag grammar only, without any network access. */
  offline?: boolean | undefined;
  catalog?: Catalog | undefined;
  /** Check the image's signatures with this policy (a failing or missing signature fails the check). */
  signature?: SignatureRequirement | undefined;
  /** Fail when no signature satisfies the (given or Kairos) policy, even when none is found. */
  requireSignature?: boolean | undefined;
  /** The trusted root for the Kairos release policy (default: the shipped public-good root). */
  trustedRoot?: SignatureRequirement['trustedRoot'];
}

export interface ReadStats {
  bytesRead: number;
  bytesTotal: number;
  layersRead: number;
  layersTotal: number;
}

export interface VerifyReport {
  reference: string;
  /** The digest the tag names: the index digest for a multi-arch image. */
  digest?: string | undefined;
  /** The platform image that was inspected (differs from `digest` for an index). */
  manifestDigest?: string | undefined;
  platform?: string | undefined;
  /** Catalog flavors the image was identified as (empty when unknown). */
  flavors: string[];
  ok: boolean;
  checks: Check[];
  read?: ReadStats | undefined;
  /** The signature check, when a policy applied. */
  signature?: SignatureReport | undefined;
}

/** What the checks look at, gathered along the way. */
interface Gathered {
  identity?: FlavorIdentity | undefined;
  configArch?: string | undefined;
  files?: ReadFilesResult | undefined;
}

function releaseTagOf(ref: Reference | undefined): ReleaseTag | undefined {
  if (ref?.tag === undefined) return undefined;
  const t = parseTag(ref.tag);
  return t.kind === 'noise' ? undefined : t;
}

/** The reference without network access: a full reference as given, or the catalog's name (needs --version). */
export async function offlineReference(opts: VerifyOptions, catalog: Catalog): Promise<Reference> {
  const given = referenceOf(opts.image);
  if (given !== undefined) return given;
  const image = opts.image as Extract<ImageSpec, { flavor: string }>;
  const r = resolveCatalogImage(catalog, {
    flavor: image.flavor,
    variant: image.variant,
    version: image.version ?? '',
    k3s: image.k3s,
    arch: opts.arch,
    model: image.model,
    registry: opts.registry,
    hostArch: opts.hostArch,
  });
  return r.reference;
}

/** Which arch to inspect for a reference: --arch, else what the tag says, else one the flavor ships (the host's when it can). */
function archFor(opts: VerifyOptions, catalog: Catalog, hostArch: string): string | undefined {
  const given = referenceOf(opts.image);
  if (opts.arch !== undefined || given === undefined) return opts.arch;
  const tag = releaseTagOf(given);
  if (tag === undefined) return undefined;
  if (tag.arch !== undefined) return tag.arch;
  const arches = identifyFlavor(catalog, given.repository, tag).arches ?? [];
  return arches.length === 0 || arches.includes(hostArch) ? undefined : arches[0];
}

function imageChecks(ctx: Gathered, tag: ReleaseTag | undefined, requestedArch: string | undefined): Check[] {
  const id = ctx.identity ?? { candidates: [], names: [], reason: 'not determined' };
  if (tag === undefined) {
    const why = 'the tag carries no Kairos version to compare the image with';
    return [
      { id: 'kairos-release', ok: 'skipped', message: why },
      { id: 'upstream-pin', ok: 'skipped', message: why },
      { id: 'arch', ok: 'skipped', message: `${why} (config: ${ctx.configArch ?? 'none'})` },
    ];
  }
  if (tag.artifact) {
    const why = 'a disk-image artifact, not an OS image: its files are not release files';
    return (['kairos-release', 'upstream-pin', 'arch'] as const).map((c) => ({ id: c, ok: 'skipped' as const, message: why }));
  }
  const files = ctx.files === undefined ? {} : releaseFilesOf(ctx.files);
  const facts = { tag, files, flavor: id };
  return [
    checkKairosRelease(facts),
    checkUpstreamPin(facts),
    checkArch({ configArch: ctx.configArch, tag, flavor: id, requested: requestedArch }),
  ];
}

/** Checks an image against its tag, the versioning policy and its flavor's pin; the report says which failed. */
async function verifyOnline(opts: VerifyOptions, catalog: Catalog): Promise<VerifyReport> {
  const emit = emitter(opts.onEvent);
  const hostArch = opts.hostArch ?? defaultHostArch();
  const client = lazyClient(opts, emit);
  return withImage({
    ...opts, arch: archFor(opts, catalog, hostArch), hostArch, tags: isCatalogName(opts.image) ? client.tags() : undefined,
    client: client.get, spoolDir: opts.cacheDir ?? defaultCacheDir(opts.env ?? process.env), emit,
  }, (img) => verifyImage(opts, catalog, img, client.get, emit));
}

async function verifyImage(opts: VerifyOptions, catalog: Catalog, img: OpenedImage, client: () => RegistryClient, emit: (e: VerifyEvent) => void): Promise<VerifyReport> {
  const { signal } = opts;
  const target = img;
  // A name carried inside an archive or layout is judged like a reference; only a registry has a tag list.
  const ref = img.reference;
  const registry = img.source.kind === 'registry' ? img.source : undefined;
  const m = await img.source.manifest({ platform: target.platform, signal });
  const platform = m.descriptor.platform ?? target.platform;
  emit({
    type: 'manifest', digest: m.descriptor.digest, indexDigest: m.index?.descriptor.digest, platform: formatPlatform(platform),
    layers: m.manifest.layers.length, size: m.manifest.layers.reduce((a, l) => a + l.size, 0), fromCache: false,
  });

  const tags = registry === undefined ? undefined : await client().listTags(ref, { signal });
  if (tags !== undefined) emit({ type: 'tags', repository: ref.repository, count: tags.length });

  const gathered: Gathered = {};
  const raw = await readSmallBlob(img.source, m.manifest.config, { cap: SMALL_BLOB_CAP, signal });
  let config: { architecture?: unknown } = {};
  try {
    config = JSON.parse(raw.toString('utf8')) as { architecture?: unknown };
  } catch {
    // An unparsable config names no architecture; the arch check says so.
  }
  gathered.configArch = typeof config.architecture === 'string' ? config.architecture : undefined;
  emit({ type: 'config', architecture: gathered.configArch });

  const tag = releaseTagOf(ref);
  if (tag === undefined || tag.artifact) {
    emit({ type: 'release-files-skipped', reason: tag === undefined ? 'no Kairos version in the tag' : 'a disk-image artifact' });
  } else {
    const files = await readImageFiles({
      layers: layerBlobs(img.source, m.manifest.layers),
      paths: RELEASE_FILES,
      decided: (view) => releaseFilesDecided(releaseFilesOf(view), tag.version),
      signal,
      onLayer: (i) => emit({ type: 'release-files-layer', layer: i, layers: m.manifest.layers.length }),
    });
    gathered.files = files;
    emit({ type: 'release-files', layersRead: files.layersRead, layersTotal: files.layersTotal, bytesRead: files.bytesRead, bytesTotal: files.bytesTotal });
  }

  if (tag !== undefined) {
    gathered.identity = target.resolution !== undefined
      ? flavorByName(catalog, target.resolution.flavor, tag.version)
      : identifyFlavor(catalog, ref.repository, tag);
  }
  const digest = m.index?.descriptor.digest ?? m.descriptor.digest;
  const noTags = (id: string): Check => ({ id, ok: 'skipped', message: `${img.name} is not a registry image: there is no tag list to judge it by`, ...(id === 'signatures' ? { info: true } : {}) });
  // The latest release branch is the flavor's, across every repository it has been published in.
  const support = tags === undefined || tag === undefined || gathered.identity === undefined || gathered.identity.candidates.length === 0 ? tags : await flavorListing({
    client: client(), repository: repositoryName(ref), tags, flavors: gathered.identity.candidates.map((c) => c.name), variant: variantOf(tag),
    arch: tag.arch ?? (gathered.configArch === undefined ? undefined : normalizeArch(gathered.configArch)), model: tag.model, registry: ref.registry, signal,
  });
  const signature = registry === undefined ? undefined : await signatureCheck(opts, catalog, client(), ref, m);
  if (signature !== undefined) emit(checkedEvent(signature.report));
  const checks: Check[] = [
    checkTagGrammar(ref.tag),
    support === undefined ? noTags('support') : checkSupport(ref.tag, support),
    ...imageChecks(gathered, tag, opts.arch === undefined ? undefined : normalizeArch(opts.arch)),
    tags === undefined ? noTags('signatures') : checkSignatures(digest, tags, signature?.outcome),
  ];
  const f = gathered.files;
  const report: VerifyReport = {
    reference: img.name,
    digest,
    manifestDigest: m.descriptor.digest,
    platform: formatPlatform(platform),
    flavors: gathered.identity?.candidates.map((c) => c.name) ?? [],
    ok: allPassed(checks),
    checks,
    read: f === undefined ? undefined : { bytesRead: f.bytesRead, bytesTotal: f.bytesTotal, layersRead: f.layersRead, layersTotal: f.layersTotal },
    ...(signature === undefined ? {} : { signature: signature.report }),
  };
  emit({ type: 'checked', ok: report.ok, failed: checks.filter((c) => c.ok === false).length });
  return report;
}

/** The given policy, else the Kairos release policy for Kairos images (also behind --registry); none for other images. */
async function signatureCheck(opts: VerifyOptions, catalog: Catalog, client: RegistryClient, ref: Reference, m: Parameters<typeof checkImageSignatures>[0]['manifest']): Promise<{ report: SignatureReport; outcome: SignatureOutcome } | undefined> {
  let requirement = opts.signature;
  if (requirement === undefined) {
    const kairos = kairosSigning(catalog);
    if (kairos !== undefined && isKairosImage(ref, kairos, opts.registry)) requirement = { policy: kairos.policy, trustedRoot: opts.trustedRoot };
  }
  if (requirement === undefined) {
    if (opts.requireSignature === true) {
      throw usageError('MISSING_OPTION', `--require-signature: ${formatReference(ref)} is not a Kairos image, so no release policy applies`, 'name who must have signed: --key FILE, or --certificate-identity… --certificate-oidc-issuer…');
    }
    return undefined;
  }
  const report = await checkImageSignatures({ client, reference: ref, manifest: m, requirement, signal: opts.signal });
  const required = opts.signature !== undefined || opts.requireSignature === true;
  // The release policy judges keyless signatures; one made with a key is as good as none without that key.
  const judged = required ? report.signatures : report.signatures.filter((s) => s.keyless);
  return {
    report,
    outcome: {
      required, policy: report.policy, verified: report.verified, found: judged.length,
      reasons: judged.map((s) => s.reason), identity: report.signatures.find((s) => s.verified)?.identity,
    },
  };
}

/** The offline verdict: the tag grammar of the named reference, nothing else. */
export async function verifyOffline(opts: VerifyOptions, catalog?: Catalog): Promise<VerifyReport> {
  const ref = await offlineReference(opts, catalog ?? opts.catalog ?? (await loadCatalog('kairos')));
  const checks = [checkTagGrammar(ref.tag)];
  return { reference: formatReference(ref), flavors: [], ok: allPassed(checks), checks };
}

/** Verifies an image against its tag, the versioning policy and its flavor's pin (`offline`: the tag grammar only). */
export async function verify(opts: VerifyOptions): Promise<VerifyReport> {
  const catalog = opts.catalog ?? (await loadCatalog('kairos'));
  // An image source (an archive, a layout) is read locally: offline or not, all of it is checked.
  if (opts.offline === true && sourceOf(opts.image) === undefined) return verifyOffline(opts, catalog);
  return verifyOnline(opts, catalog);
}
