/**
 * ORAS artifacts, pure: the exact shapes `oras push` / `oras attach` write and `oras pull` reads
 * (oras-go `pack.go` PackManifest 1.1, `content/file`), the titles that name files, the referrers
 * index of the referrers tag schema (distribution-spec 1.1 "Referrers Tag Schema"), and the JSON
 * encoding Go's `encoding/json` produces, so that a manifest made here has the bytes oras would
 * give it for the same inputs. Written here: no JavaScript ORAS implementation exists.
 */
import { KairosImgError, usageError } from '../errors.js';
import { digestOf, parseDigest } from './digest.js';
import { MediaType, type Descriptor, type ImageIndex } from './media-types.js';

export const ArtifactMediaType = {
  /** image-spec 1.1 `application/vnd.oci.empty.v1+json`: the `{}` blob. */
  empty: 'application/vnd.oci.empty.v1+json',
  /** oras' default artifactType. */
  unknownArtifact: 'application/vnd.unknown.artifact.v1',
  /** Files without a media type of their own (oras' default). */
  file: MediaType.ociLayer,
  /** Packed directories (oras' default). */
  directory: MediaType.ociLayerGzip,
} as const;

export const ArtifactAnnotation = {
  title: 'org.opencontainers.image.title',
  created: 'org.opencontainers.image.created',
  /** sha256 of a packed directory's uncompressed tar. */
  contentDigest: 'io.deis.oras.content.digest',
  /** `"true"`: the layer is a packed directory to unpack. */
  unpack: 'io.deis.oras.content.unpack',
  filtersApplied: 'org.opencontainers.referrers.filtersApplied',
} as const;

/** A descriptor with the image-spec 1.1 fields the read side does not need. */
export interface ArtifactDescriptor extends Descriptor {
  /** base64 of the content, embedded (the empty descriptor carries `e30=`). */
  data?: string | undefined;
  artifactType?: string | undefined;
}

export interface ArtifactManifest {
  schemaVersion: 2;
  mediaType: typeof MediaType.ociManifest;
  artifactType?: string | undefined;
  config: ArtifactDescriptor;
  layers: ArtifactDescriptor[];
  subject?: Descriptor | undefined;
  annotations?: Record<string, string> | undefined;
}

/** The `{}` config oras pushes for image-spec 1.1 artifacts (`ocispec.DescriptorEmptyJSON`). */
export const EMPTY_DESCRIPTOR: Readonly<ArtifactDescriptor> = Object.freeze({
  mediaType: ArtifactMediaType.empty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
});
export const EMPTY_BLOB = Buffer.from('{}');

// oras' check (RFC 6838 restricted names).
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export function checkMediaType(value: string, what: string): string {
  if (!MEDIA_TYPE.test(value)) {
    throw usageError('BAD_MEDIA_TYPE', `${what} "${value}" is not a media type (type/subtype, RFC 6838)`, 'e.g. application/vnd.example.disk-image.v1+xz');
  }
  return value;
}

/** `path[:mediaType]` as oras reads it: split at the last colon; `name:` keeps a colon in the name. */
export function parseFileArgument(arg: string): { path: string; mediaType?: string | undefined } {
  const i = arg.lastIndexOf(':');
  const path = i < 0 ? arg : arg.slice(0, i);
  const mediaType = i < 0 ? undefined : arg.slice(i + 1);
  if (path === '') throw usageError('BAD_FILE_ARGUMENT', `"${arg}" names no file`, 'use PATH or PATH:MEDIA_TYPE');
  return { path, mediaType: mediaType === undefined || mediaType === '' ? undefined : checkMediaType(mediaType, `the media type of ${path}`) };
}

/** Go's `filepath.Clean` of a slash path (lexical: `a/./b/../c` → `a/c`). */
export function cleanPath(p: string): string {
  const absolute = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (absolute) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/**
 * The title `oras push` gives a path (`filepath.Clean`), refused when it is absolute, leaves the
 * working directory or names it: a title is where `pull` writes the file, inside its output.
 */
export function titleForPath(path: string): string {
  if (path.includes('\0')) throw usageError('BAD_FILE_ARGUMENT', 'a path contains a NUL byte');
  const title = cleanPath(path);
  if (title.startsWith('/')) {
    throw usageError('ABSOLUTE_PATH', `"${path}" is an absolute path; the title of a layer is the path as given and must be relative`,
      `run from the directory above it and give the relative path (e.g. cd ${title.slice(0, title.lastIndexOf('/')) || '/'} && … ${title.slice(title.lastIndexOf('/') + 1)})`);
  }
  if (title === '..' || title.startsWith('../')) {
    throw usageError('PATH_LEAVES_DIRECTORY', `"${path}" leaves the working directory; a pull would write it outside its output directory`, 'run from a directory that contains it');
  }
  if (title === '.') throw usageError('BAD_FILE_ARGUMENT', `"${path}" names the working directory itself`, 'name the directory by its name from its parent');
  return title;
}

/**
 * Where a pulled layer goes inside the output directory: the title's components, or an error
 * when the title is absolute or leaves the directory (oras pull refuses these without
 * `--allow-path-traversal`; kairos-img has no such flag). Operational (exit 1): the artifact is bad.
 */
export function titlePath(title: string): string[] {
  const refuse = (why: string): KairosImgError => new KairosImgError('UNSAFE_TITLE', `layer title "${title.slice(0, 200)}" ${why}`, {
    hint: 'the artifact names a file outside the output directory; kairos-img never writes outside --out',
    details: { title: title.slice(0, 200) },
  });
  if (title === '' || title.includes('\0')) throw refuse('is empty or holds a NUL byte');
  if (title.startsWith('/')) throw refuse('is an absolute path');
  const parts = title.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw refuse('leaves the output directory');
  if (parts.length === 0) throw refuse('names the output directory itself');
  return parts;
}

/**
 * Why a set of titles cannot all be written into one directory: one given twice, or one inside
 * another (`d` and `d/a.txt` — the second would land in the first's tree). undefined when fine.
 */
export function titleConflict(titles: readonly string[]): { title: string; problem: string } | undefined {
  const norm = titles.map((t) => ({ title: t, key: cleanPath(t) }));
  const seen = new Map<string, string>();
  for (const n of norm) {
    if (seen.has(n.key)) return { title: n.title, problem: 'appears twice' };
    seen.set(n.key, n.title);
  }
  for (const n of norm) {
    const parts = n.key.split('/');
    for (let i = 1; i < parts.length; i++) {
      const above = seen.get(parts.slice(0, i).join('/'));
      if (above !== undefined) return { title: n.title, problem: `is inside "${above}", another file of the artifact` };
    }
  }
  return undefined;
}

/** `key=value` of `--annotation` (the value may hold `=`). */
export function parseAnnotation(arg: string): [string, string] {
  const i = arg.indexOf('=');
  if (i <= 0) throw usageError('BAD_ANNOTATION', `--annotation "${arg}" is not key=value`, 'e.g. --annotation org.opencontainers.image.source=https://github.com/kairos-io/kairos');
  return [arg.slice(0, i), arg.slice(i + 1)];
}

/** RFC 3339 to the second, UTC, as Go's `time.RFC3339` prints `time.Now().UTC()`. */
export function createdNow(now: Date = new Date()): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

export function fileLayer(opts: { digest: string; size: number; title: string; mediaType?: string | undefined }): ArtifactDescriptor {
  return { mediaType: opts.mediaType ?? ArtifactMediaType.file, digest: opts.digest, size: opts.size, annotations: { [ArtifactAnnotation.title]: opts.title } };
}

export function directoryLayer(opts: { digest: string; size: number; title: string; tarDigest: string; mediaType?: string | undefined }): ArtifactDescriptor {
  return {
    mediaType: opts.mediaType ?? ArtifactMediaType.directory, digest: opts.digest, size: opts.size,
    annotations: { [ArtifactAnnotation.contentDigest]: opts.tarDigest, [ArtifactAnnotation.unpack]: 'true', [ArtifactAnnotation.title]: opts.title },
  };
}

export interface BuiltManifest {
  manifest: ArtifactManifest;
  raw: Buffer;
  /** What a referrers index lists for it: with artifactType and annotations. */
  descriptor: ArtifactDescriptor;
}

/**
 * The image manifest oras 1.1 packs: `artifactType` (default `application/vnd.unknown.artifact.v1`),
 * the empty config, the layers in order (the empty descriptor when there are none), the subject,
 * and the annotations with `org.opencontainers.image.created` added when missing.
 */
export function buildArtifactManifest(opts: {
  layers: ArtifactDescriptor[];
  artifactType?: string | undefined;
  annotations?: Record<string, string> | undefined;
  subject?: Descriptor | undefined;
  now?: Date | undefined;
}): BuiltManifest {
  const artifactType = checkMediaType(opts.artifactType ?? ArtifactMediaType.unknownArtifact, 'the artifact type');
  const annotations: Record<string, string> = { ...opts.annotations };
  const created = annotations[ArtifactAnnotation.created];
  if (created === undefined) annotations[ArtifactAnnotation.created] = createdNow(opts.now);
  else if (!RFC3339.test(created)) throw usageError('BAD_ANNOTATION', `${ArtifactAnnotation.created} "${created}" is not an RFC 3339 time`, 'e.g. 2024-05-01T12:00:00Z');
  const manifest: ArtifactManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType,
    config: { ...EMPTY_DESCRIPTOR },
    layers: opts.layers.length > 0 ? opts.layers : [{ ...EMPTY_DESCRIPTOR }],
    ...(opts.subject === undefined ? {} : { subject: { mediaType: opts.subject.mediaType, digest: opts.subject.digest, size: opts.subject.size } }),
    annotations,
  };
  const raw = Buffer.from(goJson(manifestForJson(manifest)));
  return {
    manifest, raw,
    descriptor: { mediaType: MediaType.ociManifest, digest: digestOf(raw), size: raw.length, annotations, artifactType },
  };
}

/** The tag of the referrers tag schema for a subject: `<alg>-<hex>`. */
export function referrersTag(subjectDigest: string): string {
  const d = parseDigest(subjectDigest);
  return `${d.algorithm}-${d.hex}`;
}

/** The descriptor a referrers index lists for a manifest: artifactType (or the config's type) and its annotations. */
export function referrerDescriptor(desc: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>, manifest: { artifactType?: unknown; config?: { mediaType?: unknown }; annotations?: unknown }): ArtifactDescriptor {
  const artifactType = typeof manifest.artifactType === 'string' && manifest.artifactType !== '' ? manifest.artifactType
    : typeof manifest.config?.mediaType === 'string' ? manifest.config.mediaType : undefined;
  const annotations = isStringMap(manifest.annotations) && Object.keys(manifest.annotations).length > 0 ? manifest.annotations : undefined;
  return { mediaType: desc.mediaType, digest: desc.digest, size: desc.size, ...(annotations ? { annotations } : {}), ...(artifactType ? { artifactType } : {}) };
}

/**
 * The referrers index after adding `referrer` (read-modify-write of the tag schema): every entry
 * already there is kept, in order; the new one is appended unless its digest is listed already.
 */
export function withReferrer(existing: ImageIndex | undefined, referrer: ArtifactDescriptor): { index: ImageIndex; raw: Buffer; changed: boolean } {
  const manifests = (existing?.manifests ?? []) as ArtifactDescriptor[];
  const changed = !manifests.some((m) => m.digest === referrer.digest);
  // A fresh index of the entries, as oras-go's generateIndex makes it.
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: changed ? [...manifests, referrer] : manifests };
  return { index, raw: Buffer.from(goJson(indexForJson(index))), changed };
}

export function layerTitle(layer: Descriptor): string | undefined {
  const t = layer.annotations?.[ArtifactAnnotation.title];
  return t === undefined || t === '' ? undefined : t;
}

export function isPackedDirectory(layer: Descriptor): boolean {
  return layer.annotations?.[ArtifactAnnotation.unpack] === 'true';
}

/** The empty descriptor (or blob) that oras leaves out of a pull. */
export function isEmptyDescriptor(d: Descriptor): boolean {
  return d.mediaType === EMPTY_DESCRIPTOR.mediaType && d.digest === EMPTY_DESCRIPTOR.digest && d.size === EMPTY_DESCRIPTOR.size;
}

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

// --- Go encoding/json ---------------------------------------------------------------------------

/** Go's struct field order for descriptors (image-spec `specs-go/v1/descriptor.go`), empty fields omitted. */
function descriptorForJson(d: ArtifactDescriptor): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls !== undefined && d.urls.length > 0) out.urls = d.urls;
  if (d.annotations !== undefined && Object.keys(d.annotations).length > 0) out.annotations = sortedMap(d.annotations);
  if (d.data !== undefined && d.data !== '') out.data = d.data;
  if (d.platform !== undefined) {
    const p = d.platform;
    out.platform = {
      architecture: p.architecture, os: p.os,
      ...(p['os.version'] ? { 'os.version': p['os.version'] } : {}),
      ...(p.variant ? { variant: p.variant } : {}),
    };
  }
  if (d.artifactType !== undefined && d.artifactType !== '') out.artifactType = d.artifactType;
  return out;
}

function manifestForJson(m: ArtifactManifest): Record<string, unknown> {
  return {
    schemaVersion: m.schemaVersion,
    mediaType: m.mediaType,
    ...(m.artifactType ? { artifactType: m.artifactType } : {}),
    config: descriptorForJson(m.config),
    layers: m.layers.map(descriptorForJson),
    ...(m.subject ? { subject: descriptorForJson(m.subject) } : {}),
    ...(m.annotations && Object.keys(m.annotations).length > 0 ? { annotations: sortedMap(m.annotations) } : {}),
  };
}

function indexForJson(i: ImageIndex & { artifactType?: string; subject?: Descriptor }): Record<string, unknown> {
  return {
    schemaVersion: i.schemaVersion,
    ...(i.mediaType ? { mediaType: i.mediaType } : {}),
    ...(i.artifactType ? { artifactType: i.artifactType } : {}),
    manifests: i.manifests.map((d) => descriptorForJson(d)),
    ...(i.subject ? { subject: descriptorForJson(i.subject) } : {}),
    ...(i.annotations && Object.keys(i.annotations).length > 0 ? { annotations: sortedMap(i.annotations) } : {}),
  };
}

/** Go marshals map keys sorted by their bytes. */
function sortedMap(m: Record<string, string>): Record<string, string> {
  const keys = Object.keys(m).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = m[k] as string;
  return out;
}

/** A string as Go's encoder writes it: HTML-safe (`<`, `>`, `&` escaped), U+2028/2029 escaped. */
function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // a lone surrogate: Go writes the replacement character
    else out += ch;
  }
  return `${out}"`;
}

/** JSON as Go's `json.Marshal` writes it (compact, keys in the order given). */
export function goJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  return `{${entries.map(([k, x]) => `${goString(k)}:${goJson(x)}`).join(',')}}`;
}
