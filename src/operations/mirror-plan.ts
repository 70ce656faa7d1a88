/**
 * The pure half of `mirror`: what the options mean (versions, arches, the destination) and where
 * each image goes. A registry destination keeps the repository path under its prefix
 * (`quay.io/kairos/ubuntu:T --to reg.local/mirror` → `reg.local/mirror/kairos/ubuntu:T`); a layout
 * names each image `<repository path>:<tag>`.
 */
import path from 'node:path';
import { semverPackage as semver } from '../lazy-packages.js';
import { usageError } from '../errors.js';
import { formatPlatform, type Descriptor, type ImageIndex, type Platform } from '../oci/index.js';
import { normalizeRegistryHost, parseReference, type Reference } from '../reference/reference.js';
import { compareKairos, isKairosRelease, kairosSemver } from '../version/index.js';

export type VersionSelector = { kind: 'latest' } | { kind: 'newest'; count: number } | { kind: 'range'; range: string };

/** `latest` (default), `N` (the newest N releases), or a semver range (`>=2.4.0 <3`, `v2.4.x`, `^3`). */
export function parseVersions(text: string | undefined): VersionSelector {
  if (text === undefined || text === 'latest') return { kind: 'latest' };
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    if (count < 1 || count > 1000) throw usageError('BAD_OPTION', `--versions ${text}: a count must be from 1 to 1000`);
    return { kind: 'newest', count };
  }
  const range = text.replace(/(^|[\s<>=^~|])v(?=\d)/g, '$1');
  if (semver().validRange(range) === null) {
    throw usageError('BAD_OPTION', `--versions ${text} is not latest, a count or a version range`, 'e.g. --versions latest, --versions 3, --versions ">=2.4.0 <3", --versions v2.4.x');
  }
  return { kind: 'range', range };
}

/** The release versions a selector picks from `versions` (any order, duplicates allowed), newest first. */
export function selectVersions(versions: readonly string[], sel: VersionSelector): string[] {
  const releases = [...new Set(versions.filter(isKairosRelease))].sort((a, b) => compareKairos(b, a));
  switch (sel.kind) {
    case 'latest': return releases.slice(0, 1);
    case 'newest': return releases.slice(0, sel.count);
    case 'range': return releases.filter((v) => semver().satisfies(kairosSemver(v) as string, sel.range));
  }
}

/** `all` or a comma list of architectures. */
export function parseArches(text: string | undefined): 'all' | string[] {
  if (text === undefined || text === 'all') return 'all';
  const arches = text.split(',').map((a) => a.trim()).filter((a) => a !== '');
  for (const a of arches) {
    if (!/^[a-z0-9]+(?:\/[a-z0-9]+)?$/.test(a)) throw usageError('BAD_OPTION', `--arch ${text}: "${a}" is not an architecture`, 'e.g. --arch all, --arch amd64,arm64');
  }
  if (arches.length === 0) throw usageError('BAD_OPTION', '--arch is empty', 'e.g. --arch all, --arch amd64,arm64');
  return arches;
}

export type MirrorDestination =
  | { kind: 'registry'; registry: string; prefix: string; text: string }
  | { kind: 'oci'; dir: string; text: string }
  | { kind: 'oci-archive'; file: string; text: string };

/** `--to HOST[:PORT][/PREFIX]`, `oci:DIR` or `oci-archive:FILE`. */
export function parseMirrorDestination(text: string | undefined): MirrorDestination {
  if (text === undefined || text === '') throw usageError('MISSING_OPTION', 'mirror needs --to', 'use --to HOST[:PORT][/PREFIX], --to oci:DIR or --to oci-archive:FILE');
  if (text.startsWith('oci:') || text.startsWith('oci-archive:')) {
    const kind = text.startsWith('oci:') ? 'oci' : 'oci-archive';
    const rest = text.slice(kind.length + 1);
    if (rest === '' || rest.includes(':')) {
      throw usageError('BAD_DESTINATION', `--to ${text}: ${rest === '' ? 'the path is missing' : 'a mirror layout names each image itself; give the path only'}`, `use --to ${kind}:${kind === 'oci' ? 'DIR' : 'FILE'}`);
    }
    return kind === 'oci' ? { kind, dir: path.resolve(rest), text } : { kind, file: path.resolve(rest), text };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw usageError('BAD_DESTINATION', `--to ${text}: no URL scheme`, 'use --to HOST[:PORT][/PREFIX] (with --plain-http for an HTTP registry)');
  }
  const slash = text.indexOf('/');
  const host = slash < 0 ? text : text.slice(0, slash);
  const prefix = slash < 0 ? '' : text.slice(slash + 1).replace(/\/+$/, '');
  let registry: string;
  try {
    registry = normalizeRegistryHost(host);
  } catch {
    throw usageError('BAD_DESTINATION', `--to ${text}: "${host}" is not a registry host`, 'use --to HOST[:PORT][/PREFIX], --to oci:DIR or --to oci-archive:FILE');
  }
  if (!host.includes('.') && !host.includes(':') && host !== 'localhost') {
    throw usageError('BAD_DESTINATION', `--to ${text}: "${host}" does not look like a registry host (no dot, no port)`, 'use --to HOST[:PORT][/PREFIX], e.g. registry.site.local:5000/mirror');
  }
  if (prefix !== '') {
    try {
      parseReference(`${registry}/${prefix}/x`);
    } catch {
      throw usageError('BAD_DESTINATION', `--to ${text}: "${prefix}" is not a repository path`, 'lower-case components separated by /');
    }
  }
  return { kind: 'registry', registry, prefix, text };
}

/** Where an image goes in a registry destination: the repository path kept under the prefix. */
export function destinationReference(source: Pick<Reference, 'repository' | 'tag' | 'digest'>, dest: { registry: string; prefix: string }): Reference {
  const repository = dest.prefix === '' ? source.repository : `${dest.prefix}/${source.repository}`;
  return { registry: dest.registry, repository, ...(source.tag !== undefined ? { tag: source.tag } : source.digest !== undefined ? { digest: source.digest } : {}) };
}

/** The ref name of an image in a mirror layout: `<repository path>:<tag>` (or `@<digest>`). */
export function layoutName(source: Pick<Reference, 'repository' | 'tag' | 'digest'>): string {
  return source.tag !== undefined ? `${source.repository}:${source.tag}` : `${source.repository}@${source.digest ?? ''}`;
}

/** An index.json ref name of a mirror layout read back as a source: `repo/path:tag` → its reference parts. */
export function nameAsReference(name: string): Pick<Reference, 'repository' | 'tag' | 'digest'> | undefined {
  try {
    const r = parseReference(`mirror.invalid/${name}`);
    return r.tag === undefined && r.digest === undefined ? undefined : { repository: r.repository, tag: r.tag, digest: r.digest };
  } catch {
    return undefined;
  }
}

/** True when an index entry is for one of `arches` (attestations follow the image they describe). */
function keepEntry(d: Descriptor, arches: readonly string[], kept: ReadonlySet<string>): boolean {
  const p: Platform | undefined = d.platform;
  if (p === undefined) return true;
  if (p.os === 'unknown' && p.architecture === 'unknown') {
    const subject = d.annotations?.['vnd.docker.reference.digest'];
    return subject === undefined || kept.has(subject);
  }
  return arches.some((a) => a === p.architecture || a === formatPlatform(p).slice('linux/'.length) || a === formatPlatform(p));
}

/**
 * An index limited to `arches` (pure). `undefined` when it keeps every entry: the original bytes
 * are copied then, digest and all.
 */
export function filterIndex(index: ImageIndex, arches: 'all' | readonly string[]): { index: ImageIndex; dropped: number } | undefined {
  if (arches === 'all') return undefined;
  const images = index.manifests.filter((d) => !(d.platform?.os === 'unknown' && d.platform.architecture === 'unknown') && keepEntry(d, arches, new Set()));
  const kept = new Set(images.map((d) => d.digest));
  const manifests = index.manifests.filter((d) => keepEntry(d, arches, kept));
  if (manifests.length === index.manifests.length) return undefined;
  return { index: { ...index, manifests }, dropped: index.manifests.length - manifests.length };
}
