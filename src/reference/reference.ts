/**
 * The Docker/OCI image reference grammar (distribution/reference), pure.
 * Written here rather than taken from npm: the packages there either munge strings
 * or lack the implicit `docker.io/library/` rules and typed errors we need.
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [domain "/"] path-component ["/" path-component]*
 *   domain     := host [":" port]        (a first component with "." or ":" or "localhost")
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" encoded
 */
import { KairosImgError } from '../errors.js';
import { digestProblem } from '../oci/digest.js';

export interface Reference {
  /** Registry host with optional port, e.g. `quay.io`, `127.0.0.1:5000`, `docker.io`. */
  readonly registry: string;
  /** Repository path without the registry, e.g. `kairos/core-opensuse`, `library/alpine`. */
  readonly repository: string;
  readonly tag?: string | undefined;
  readonly digest?: string | undefined;
}

export const DOCKER_HUB = 'docker.io';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const NAME_MAX = 255;

export function badReference(input: string, problem: string, hint?: string): KairosImgError {
  return new KairosImgError('BAD_REFERENCE', `invalid image reference "${input}": ${problem}`, {
    hint: hint ?? 'a reference looks like quay.io/kairos/core-opensuse:v1.5.0 or host:port/repo@sha256:<64 hex>',
  });
}

export function parseReference(input: string): Reference {
  const text = input.trim();
  if (text === '') throw badReference(input, 'it is empty');
  if (/\s/.test(text)) throw badReference(input, 'it contains whitespace');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw badReference(input, 'it has a URL scheme', 'drop the scheme, e.g. quay.io/kairos/core-opensuse:v1.5.0');
  }

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem !== undefined) throw badReference(input, problem);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (tag.length > 128) throw badReference(input, `tag is ${tag.length} characters long; the limit is 128`);
    if (!TAG.test(tag)) {
      throw badReference(input, `tag "${tag}" may contain only letters, digits, "_", "." and "-", and must not start with "." or "-"`);
    }
  }

  if (rest === '') throw badReference(input, 'the repository name is missing');
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || /[A-Z]/.test(first))) {
    registry = first;
    parts.shift();
    if (!DOMAIN.test(registry)) throw badReference(input, `registry "${registry}" is not a valid host[:port]`);
    const port = /:(\d+)$/.exec(registry)?.[1];
    if (port !== undefined && Number(port) > 65535) throw badReference(input, `port ${port} is out of range`);
  }
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');

  for (const part of parts) {
    if (part === '') throw badReference(input, 'the repository has an empty path component');
    if (/[A-Z]/.test(part)) {
      throw badReference(input, `repository "${parts.join('/')}" must be lowercase`, `try ${rest.toLowerCase()}`);
    }
    if (!PATH_COMPONENT.test(part)) {
      throw badReference(input, `repository path component "${part}" may contain only a-z, 0-9 and single separators ".", "_", "__" or "-"`);
    }
  }
  const repository = parts.join('/');
  if (registry.length + 1 + repository.length > NAME_MAX) {
    throw badReference(input, `the name is longer than ${NAME_MAX} characters`);
  }
  return { registry, repository, tag, digest };
}

/** The canonical, fully-qualified form (`docker.io/library/alpine:3.18`). */
export function formatReference(ref: Reference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** `registry/repository` without tag or digest. */
export function repositoryName(ref: Pick<Reference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

export function withTag(ref: Reference, tag: string): Reference {
  if (!TAG.test(tag)) throw badReference(`${repositoryName(ref)}:${tag}`, `tag "${tag}" is not valid`);
  return { registry: ref.registry, repository: ref.repository, tag };
}

export function withDigest(ref: Reference, digest: string): Reference {
  const problem = digestProblem(digest);
  if (problem !== undefined) throw badReference(`${repositoryName(ref)}@${digest}`, problem);
  return { ...ref, digest };
}

/** Tag if present, else digest: what a manifest request names. */
export function manifestSelector(ref: Reference): string {
  const sel = ref.digest ?? ref.tag;
  if (sel === undefined) throw badReference(formatReference(ref), 'it names neither a tag nor a digest', 'add :<tag> or @sha256:<digest>');
  return sel;
}

/**
 * `--registry HOST[:PORT]` for mirrors and the local registry: swaps the host of a
 * reference whose registry is `from` (the catalog's upstream), keeping the path.
 */
export function rewriteRegistry(ref: Reference, from: string, to: string | undefined): Reference {
  if (to === undefined || to === '' || ref.registry !== from) return ref;
  return { ...ref, registry: normalizeRegistryHost(to) };
}

export function normalizeRegistryHost(input: string): string {
  const host = input.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  if (!DOMAIN.test(host)) {
    throw new KairosImgError('BAD_REGISTRY', `invalid registry "${input}": expected HOST[:PORT]`, {
      hint: 'e.g. --registry 127.0.0.1:5000 or --registry mirror.example.com',
    });
  }
  return host;
}
