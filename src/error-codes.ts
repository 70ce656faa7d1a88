/**
 * The catalogue of error codes: every `KairosImgError` names one of these, and the code alone
 * decides the exit code. One rule: 2 for what the user typed (arguments, options, names, files
 * they point at), 1 for everything that went wrong while doing it — the network, the registry, the
 * engine, the disk, and content that fails its digest, size or checksum, whoever corrupted it (as
 * docker and crane do) — 3 only for a verdict the user asked for (signature policy), 130 for an
 * interruption. README's table of codes is checked against this object by a test.
 */

export type ErrorKind = 'operational' | 'usage' | 'verification' | 'interrupted';

interface CodeInfo {
  readonly kind: ErrorKind;
  readonly meaning: string;
}

const op = (meaning: string) => ({ kind: 'operational' as const, meaning });
const usage = (meaning: string) => ({ kind: 'usage' as const, meaning });

export const ERROR_CODES = {
  // ── what the user typed ──────────────────────────────────────────────────────────────────────
  BAD_REFERENCE: usage('an image reference does not follow the Docker/OCI grammar'),
  BAD_REGISTRY: usage('--registry is not HOST[:PORT]'),
  BAD_DESTINATION: usage('--to names no destination kairos-img can write (oci:DIR[:TAG], docker)'),
  BAD_OPTION: usage('an option value is out of range or not one of its choices'),
  BAD_VERSION: usage('a version is not a Kairos (or Talos) version'),
  BAD_K3S_VERSION: usage('--k3s is not a k3s version'),
  BAD_KUBERNETES_VERSION: usage('a Kubernetes version is malformed'),
  BAD_DATE: usage('a date is not YYYY-MM-DD'),
  BAD_DOCKER_HOST: usage('DOCKER_HOST is neither unix:// nor tcp://'),
  CONFLICTING_OPTIONS: usage('two options (or an option and the image form) exclude each other'),
  MISSING_ARGUMENT: usage('a positional argument is missing'),
  TOO_MANY_ARGUMENTS: usage('more positional arguments than the command takes'),
  MISSING_INPUT: usage('offline naming needs an option that was not given (--version, --k3s)'),
  MISSING_OPTION: usage('a required option is missing'),
  MISSING_TAG: usage('a reference needs a tag or digest here'),
  UNKNOWN_FLAVOR: usage('the catalog has no such flavor'),
  UNKNOWN_VARIANT: usage('the catalog has no such variant'),
  UNKNOWN_OS: usage('no catalog for that operating system'),
  UNKNOWN_TALOS_IMAGE: usage('the Talos catalog has no such image'),
  UNKNOWN_PLATFORM: usage('the Talos support matrix has no such platform'),
  UNKNOWN_TALOS_VERSION: usage('the Talos support matrix has no such release'),
  UNSUPPORTED_ARCH: usage('the flavor or release is not published for that architecture'),
  UNSUPPORTED_MODEL: usage('the flavor has no such board model'),
  UNEXPECTED_K3S: usage('--k3s given for an image without k3s'),
  UNEXPECTED_MODEL: usage('--model given for an image without models'),
  FLAVOR_NOT_PUBLISHED: usage('the flavor does not exist at that release (the message names its replacement)'),
  IMAGE_NOT_PUBLISHED: usage('the image does not exist at that release'),
  BAD_FLAVOR_RELEASE: usage('--flavor-release is not a flavor release'),
  RELEASE_FILE_UNREADABLE: usage('the --release-file cannot be read'),
  RELEASE_FILE_INCOMPLETE: usage('the release file lacks keys it needs (the message names them)'),
  NOT_A_KAIROS_IMAGE: usage('the image carries no Kairos release keys'),
  NO_SUCH_CANDIDATE: usage('--to names no upgrade candidate of the system'),
  NO_ARTIFACT: usage('the image has no disk-image artifact'),
  VERSION_OUT_OF_RANGE: usage('the version is older than any release the catalog knows'),
  UNPACK_TARGET_NOT_EMPTY: usage('the unpack target is not empty (or became non-empty); --force replaces it'),
  UNPACK_TARGET_NOT_A_DIRECTORY: usage('the unpack target exists and is not a directory'),
  OUT_NOT_A_DIRECTORY: usage('--out exists and is not a directory'),
  OUTPUT_NOT_LAYOUT: usage('--to oci:DIR names a non-empty directory that is not an OCI layout'),
  CACHE_PLATFORM_MISMATCH: usage('the cached image is another platform than the one asked for (--arch)'),
  BAD_SOURCE: usage('an image source (docker-archive:, oci-archive:, oci:, docker-daemon:) is malformed'),
  SOURCE_NOT_FOUND: usage('the file or directory an image source names does not exist'),
  NOT_AN_ARCHIVE: usage('an archive source is not a tar file (plain, gzip or zstd)'),
  NOT_A_LAYOUT: usage('an oci: source is not an OCI image layout (no oci-layout or index.json)'),
  IMAGE_NOT_IN_SOURCE: usage('the archive or layout has no image of that name (the message lists those it has)'),
  AMBIGUOUS_SOURCE: usage('the archive or layout holds several images and none was named'),
  SOURCE_NOT_SUPPORTED: usage('this command or option cannot read that kind of image source'),
  CONFIG_INVALID: usage('the kairos-img configuration file is not valid (the message names the key)'),
  DOCKER_CONFIG_INVALID: usage('$DOCKER_CONFIG/config.json is not valid JSON'),
  CREDENTIAL_HELPER_INVALID: usage('a credential helper name in the Docker config is not valid'),
  BAD_FILE_ARGUMENT: usage('an artifact file argument is not PATH[:MEDIA_TYPE]'),
  BAD_MEDIA_TYPE: usage('a media type or artifact type is not type/subtype (RFC 6838)'),
  BAD_ANNOTATION: usage('--annotation is not key=value'),
  NO_SUCH_FILE: usage('a file to push does not exist'),
  UNSUPPORTED_FILE_TYPE: usage('a path to push is neither a regular file nor a directory'),
  ABSOLUTE_PATH: usage('a path to push is absolute; artifact titles are relative'),
  PATH_LEAVES_DIRECTORY: usage('a path to push leaves the working directory (..)'),
  TITLE_CONFLICT: usage('two files to push would get the same title, or one inside the other'),
  OUT_NOT_EMPTY: usage('the pull would replace a non-empty directory (--force replaces it)'),
  BAD_KEY: usage('--key is not a public key cosign signs with (PEM ECDSA P-256/384/521, RSA ≥ 2048, Ed25519)'),
  BAD_TRUSTED_ROOT: usage('--trusted-root is not a trusted_root.json'),
  // ── the registry and the network ─────────────────────────────────────────────────────────────
  REGISTRY_UNREACHABLE: op('the registry host cannot be reached (DNS, refused, timeout)'),
  REGISTRY_CONNECTION_LOST: op('the connection dropped and retries ran out'),
  TLS_FAILURE: op('TLS with the registry failed (certificate, protocol; --plain-http for HTTP registries)'),
  REGISTRY_ERROR: op('the registry answered something the protocol does not allow'),
  UNAUTHORIZED: op('the registry (or its token server) refused the credentials, or none were found'),
  DENIED: op('the registry denied access to the repository'),
  NAME_UNKNOWN: op('the repository does not exist on the registry'),
  MANIFEST_UNKNOWN: op('the tag or digest does not exist in the repository'),
  BLOB_UNKNOWN: op('a blob the manifest names is missing from the registry'),
  NO_RELEASE_FOUND: op('no release of the image was found on the registry'),
  PLATFORM_NOT_FOUND: op('the index has no image for the platform (--arch)'),
  ARTIFACT_NOT_FOUND: op('the disk-image artifact does not exist (the message lists those that do)'),
  MANIFEST_TOO_LARGE: op('a manifest is larger than the 4 MiB kairos-img reads'),
  BLOB_TOO_LARGE: op('a JSON blob (config) is larger than kairos-img reads into memory'),
  BAD_MANIFEST: op('a manifest or index is not valid JSON or misses required fields'),
  UNSUPPORTED_MEDIA_TYPE: op('a manifest media type kairos-img does not read (Docker schema 1, …)'),
  // ── the registry's write side ────────────────────────────────────────────────────────────────
  BLOB_UPLOAD_UNKNOWN: op('the registry no longer knows the upload session (it is restarted, then this is reported)'),
  BLOB_UPLOAD_INVALID: op('the registry refused the upload (range or session out of step)'),
  UPLOAD_OUT_OF_STEP: op('the registry holds another amount of an upload than was sent'),
  DIGEST_INVALID: op('the registry computed another digest for an upload than the one sent'),
  SIZE_INVALID: op('the registry refused an upload\'s size'),
  MANIFEST_INVALID: op('the registry refused a manifest as invalid'),
  MANIFEST_BLOB_UNKNOWN: op('the registry refused a manifest naming a blob it does not have'),
  MANIFEST_UNVERIFIED: op('the registry could not verify a manifest'),
  TAG_INVALID: op('the registry refused a tag'),
  UNSUPPORTED: op('the registry does not support the operation'),
  AUTH_RETRY: op('the registry asked for credentials again mid-operation (retried)'),
  BAD_REFERRERS_INDEX: op('the referrers tag holds something other than an image index'),
  REFERRERS_INDEX_RACE: op('the referrers tag kept changing while kairos-img updated it'),
  // ── artifacts ────────────────────────────────────────────────────────────────────────────────
  ARTIFACT_IS_INDEX: op('the reference names an image index, not an artifact manifest'),
  UNSAFE_TITLE: op('an artifact layer title is absolute or leaves the output directory; nothing was written'),
  ARTIFACT_TITLE_CONFLICT: op('two layers of an artifact have the same title, or one inside the other'),
  // ── content that is not what it claims (integrity) ───────────────────────────────────────────
  BAD_DIGEST: op('a digest in a manifest or answer is malformed'),
  UNSUPPORTED_DIGEST: op('a digest uses an algorithm other than sha256/sha512'),
  DIGEST_MISMATCH: op('content does not hash to its digest; nothing from it was kept'),
  SIZE_MISMATCH: op('content is longer or shorter than its descriptor; nothing from it was kept'),
  CHECKSUM_MISMATCH: op('a disk image does not match the .sha256 file shipped with it'),
  CHECKSUM_FILE_TOO_LARGE: op('a .sha256 file is too large to be sha256sum output'),
  CACHE_CORRUPT: op('a cache entry was corrupted on disk; it was removed'),
  CACHE_INCOMPLETE: op('the cache lacks a blob of an image it names'),
  NOT_CACHED: op('the image is not in the cache (pull it first)'),
  LOCK_TIMEOUT: op('another kairos-img held the cache lock too long'),
  UNPACK_BAD_ENTRY: op('a layer entry is malformed or tries to escape the target; nothing outside was written'),
  UNPACK_SYMLINK_LOOP: op('resolving a path inside the target met too many symbolic links'),
  UNPACK_LAYER_CORRUPT: op('a layer does not decompress or is not a valid tar stream'),
  UNPACK_LAYER_FORMAT_MISMATCH: op('a layer blob is another format than its media type says'),
  UNPACK_MEDIA_TYPE_UNSUPPORTED: op('a layer media type kairos-img does not unpack'),
  LAYER_READ_FAILED: op('a layer could not be read while looking for release files'),
  ARTIFACT_LAYER_CORRUPT: op('a disk-image artifact layer is not a readable archive'),
  ARTIFACT_IMAGE_CORRUPT: op('a compressed disk image does not decompress'),
  NOT_A_DISK_IMAGE_ARTIFACT: op('the image is not a disk-image artifact (no layers, no disk image)'),
  ARCHIVE_SIZE_CHANGED: op('a blob changed size while it was streamed into docker load'),
  ARCHIVE_CORRUPT: op('an archive is truncated, or its manifest.json / index.json is malformed'),
  XZ_NOT_FOUND: op('the xz program is needed for .img.xz and is not on PATH'),
  // ── the local filesystem ─────────────────────────────────────────────────────────────────────
  DISK_FULL: op('no space (or quota) left on the device being written'),
  PERMISSION_DENIED: op('the filesystem refused the operation (permissions, read-only mount)'),
  NAME_TOO_LONG: op('a file name or path is longer than the filesystem allows'),
  FILESYSTEM_ERROR: op('another filesystem error (the message carries the system\'s code)'),
  // ── catalogs ─────────────────────────────────────────────────────────────────────────────────
  CATALOG_MISSING: op('a catalog file (flavors/*.yaml) cannot be read'),
  CATALOG_INVALID: op('a catalog file does not validate (the message names file, key and problem)'),
  CATALOG_INCOMPLETE: op('the catalog lacks a template it needs for the request'),
  CATALOG_MISMATCH: op('the catalog names a tag other than the one the registry has (a catalog bug)'),
  // ── credentials ──────────────────────────────────────────────────────────────────────────────
  CONFIG_UNREADABLE: op('the kairos-img configuration file exists and cannot be read'),
  DOCKER_CONFIG_UNREADABLE: op('$DOCKER_CONFIG/config.json exists and cannot be read'),
  CREDENTIAL_HELPER_MISSING: op('a docker-credential-<name> helper the config names is not installed'),
  CREDENTIAL_HELPER_FAILED: op('a credential helper failed or answered nonsense'),
  // ── the Docker engine and luet ───────────────────────────────────────────────────────────────
  ENGINE_UNREACHABLE: op('no Docker engine answers at DOCKER_HOST (or the default socket)'),
  ENGINE_TLS_CERT: op('the TLS files for a tcp:// engine cannot be read'),
  ENGINE_PULL_FAILED: op('the engine could not pull the image'),
  ENGINE_UNAUTHORIZED: op('the registry refused the engine\'s pull'),
  ENGINE_REFUSES_HTTP: op('the engine refuses plain HTTP to the registry (insecure-registries)'),
  ENGINE_PLATFORM_MISSING: op('the engine found no image for the platform'),
  ENGINE_IMAGE_NOT_FOUND: op('the engine reports the image does not exist on the registry'),
  ENGINE_IMAGE_MISSING: op('the engine does not have the image it should have'),
  ENGINE_INSPECT_FAILED: op('the engine does not show the image after the pull'),
  ENGINE_LOAD_FAILED: op('docker load failed'),
  ENGINE_IMAGE_ID_MISMATCH: op('the engine loaded the image under another ID than its config digest'),
  ENGINE_CREATE_FAILED: op('the engine could not create the export container'),
  ENGINE_EXPORT_FAILED: op('the engine could not export the container filesystem'),
  ENGINE_CLEANUP_FAILED: op('the temporary export container could not be removed'),
  LUET_UNAVAILABLE: op('--via luet needs luet on PATH or a Docker engine'),
  LUET_FAILED: op('luet util unpack failed'),
  LUET_IMAGE_PULL_FAILED: op('the engine could not pull the luet image'),
  TRUSTED_ROOT_MISSING: op('the Sigstore trusted root shipped with kairos-img cannot be read (a broken install)'),
  // ── verdicts ─────────────────────────────────────────────────────────────────────────────────
  SIGNATURE_NOT_VERIFIED: { kind: 'verification' as const, meaning: 'no signature satisfies the policy (missing, replayed, corrupted, wrong key or identity); nothing was written' },
  // ── the run itself ───────────────────────────────────────────────────────────────────────────
  INTERRUPTED: { kind: 'interrupted' as const, meaning: 'Ctrl-C or SIGTERM; nothing was left half-written' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes whose kind is `usage`: what `usageError()` may throw. */
export type UsageCode = { [K in ErrorCode]: (typeof ERROR_CODES)[K]['kind'] extends 'usage' ? K : never }[ErrorCode];

export function kindOf(code: ErrorCode): ErrorKind {
  return ERROR_CODES[code].kind;
}
