/** Public API of the OCI distribution client. */
export { createRegistryClient, apiHost, MANIFEST_CAP, SMALL_BLOB_CAP } from './client.js';
export type { RegistryClient, RegistryClientOptions, ManifestResult, ManifestDocument, FetchBlobOptions, Signalled, ReferrersApiResult } from './client.js';
export { fileSource, bufferSource, uploadedBytes, MONOLITHIC_MAX, CHUNK_SIZE } from './push.js';
export type { BlobSource, PushBlobOptions, PushBlobResult, PutManifestResult, WriteSide } from './push.js';
export { listReferrers, findReferrers, indexReferrer } from './referrers.js';
export type { ReferrersTarget, ListReferrersOptions, FoundReferrers, ReferrersSource, IndexReferrerResult } from './referrers.js';
export { dockerConfigCredentials, staticCredentials, anonymous, dockerConfigPath, findAuthEntry, helperFor } from './credentials.js';
export type { CredentialSource, CredentialLookup, Credentials, DockerConfig } from './credentials.js';
export type { RegistryEvent } from './events.js';
export { DEFAULT_RETRY } from './retry.js';
export type { RetryPolicy } from './retry.js';
export { isLocalRegistry } from './failures.js';
export { withMirrors } from './mirrors.js';
export type { MirrorResolution } from './mirrors.js';
