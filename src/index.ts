/**
 * kairos-img as a library: the same operations as the CLI, as plain async functions that take an
 * options object (with `signal` and an optional `onEvent` for typed progress) and return data.
 * Nothing here prints.
 *
 *   import { resolve, pull, unpack } from 'kairos-img';
 *   const r = await resolve({ flavor: 'ubuntu-22-lts', variant: 'standard', version: 'v1.5.1', k3s: 'v1.26.1+k3s1' });
 */
export { KairosImgError, ExitCode, exitCodeOf, redact } from './errors.js';
export type { ErrorKind, ErrorCode } from './errors.js';
export { ERROR_CODES } from './errors.js';

export { parseReference, formatReference, rewriteRegistry, repositoryName } from './reference/reference.js';
export type { Reference } from './reference/reference.js';

export { loadCatalog, parseCatalog, resolveImage as resolveOffline, tagSearches, nearestName, buildMatrix, catalogFor, catalogNamedBy, OS_CATALOGS } from './catalog/index.js';
export type { ImageRequest, ResolvedImage, ResolvedKairosImage, ImageKind, Matrix, MatrixRow, Catalog, Flavor, Era, Pin, OsCatalog, CatalogRequest, CatalogImage, TagRepository } from './catalog/index.js';

export { resolve, resolutionFacts } from './operations/resolve.js';
export type { ResolveOptions, Resolution, ResolutionFacts, TagSource } from './operations/resolve.js';
export { pull } from './operations/pull.js';
export type { PullOptions, PullSummary, PullDestination } from './operations/pull.js';
export type { ImageSpec, CatalogName, OperationOptions } from './operations/common.js';
export type * from './operations/events.js';
export { unpack } from './operations/unpack.js';
export type { UnpackOptions, UnpackSummary } from './operations/unpack.js';
export { listTags } from './operations/tags.js';
export type { TagListing, TagRow, ListTagsOptions } from './operations/tags.js';
export { listReleases } from './operations/releases.js';
export type { ReleasesOptions, ReleasesReport, ReleaseCandidate, CurrentSystem, SystemSource } from './operations/releases.js';
export { diffImages } from './operations/diff.js';
export type { DiffOptions, DiffReport, ImageFacts } from './operations/diff.js';
export { createClient, tagSource } from './operations/client.js';
export { mirror, parseMirrorDestination, parseVersions, parseArches } from './operations/mirror.js';
export type { MirrorOptions, MirrorReport, MirrorSource, MirroredImage, MirrorDestination, MirrorEvent } from './operations/mirror.js';
export { openSource, parseTransport, formatTransport, registrySource } from './store/sources/index.js';
export type { ImageSource, SourceKind, SourceTransport } from './store/sources/index.js';
export { loadConfig, parseConfig, configPath } from './config/index.js';
export type { KairosImgConfig, MirrorEndpoint } from './config/index.js';

export { createRegistryClient, dockerConfigCredentials, staticCredentials, anonymous } from './registry/index.js';
export type { RegistryClient, RegistryClientOptions, CredentialSource } from './registry/index.js';
export * as oci from './oci/index.js';
export type { Descriptor, ImageManifest, ImageIndex, Platform } from './oci/index.js';
export { openStore, exportLayout, pullImage } from './store/index.js';
export type { Store } from './store/index.js';
export { unpackImage, unpackTarStreams } from './unpack/index.js';
export type { UnpackReport, LayerInput } from './unpack/index.js';

export { verify, verifyOffline } from './operations/verify.js';
export type { VerifyOptions, VerifyReport } from './operations/verify.js';
export { extractImg } from './operations/extract-img.js';
export type { ExtractImgOptions, ExtractImgSummary } from './operations/extract-img.js';
export type { ArtifactFile } from './artifacts/index.js';
export { unpackVia } from './operations/unpack-via.js';
export type { UnpackViaOptions } from './operations/unpack-via.js';
export { pullToEngine } from './operations/engine-pull.js';
export type { EnginePullSummary } from './operations/engine-pull.js';
export { connectDocker, pullIntoEngine, loadCachedImage, unpackViaDocker, exportContainerFilesystem } from './engine/docker.js';
export { luetUnpack } from './engine/luet.js';
export { loadTalosMatrix, parseTalosMatrix, checkTalos } from './catalog/index.js';

export * as policy from './policy/index.js';
export * as version from './version/index.js';

export { verifyImageSignature, checkImageSignatures } from './operations/signature.js';
export type { SignatureRequirement, SignatureReport, SignatureVerifyOptions } from './operations/signature.js';
export { signatureGate, signedBlobsCheck } from './operations/signature-gate.js';
export type { SignedBlob } from './operations/signature-gate.js';
export { signatureSource, registryReferrersOf } from './operations/signature-source.js';
export { sbom } from './operations/sbom.js';
export type { SbomOptions, SbomReport, SbomEntry } from './operations/sbom.js';
export * as signature from './signature/index.js';

export { artifactPush, artifactAttach } from './operations/artifact-push.js';
export type { ArtifactPushOptions, ArtifactAttachOptions, ArtifactPushSummary, ArtifactAttachSummary, ArtifactFileSpec, PushedLayer } from './operations/artifact-push.js';
export { artifactPull } from './operations/artifact-pull.js';
export type { ArtifactPullOptions, ArtifactPullSummary, PulledFile } from './operations/artifact-pull.js';
export { artifactDiscover } from './operations/artifact-discover.js';
export type { ArtifactDiscoverOptions, ArtifactDiscoverSummary, DiscoveredReferrer } from './operations/artifact-discover.js';
export type * from './operations/artifact-events.js';
export { listReferrers, findReferrers, indexReferrer } from './registry/index.js';
export type { ReferrersTarget, ListReferrersOptions } from './registry/index.js';
