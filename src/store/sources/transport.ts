/**
 * The transport syntax skopeo users know (containers/image `transports/alltransports`), pure:
 *
 *   docker-archive:FILE[:REF | :@N]   `docker save` output (also gzip/zstd compressed)
 *   oci-archive:FILE[:NAME]           a tar of an OCI image layout
 *   oci:DIR[:NAME]                    an OCI image layout directory
 *   docker-daemon:REF                 an image the Docker engine has (`docker save`)
 *   docker://REF                      a registry reference (the default when no transport is named)
 *
 * As in containers/image, the path ends at the first colon after the transport (so a path cannot
 * hold one); what follows names the image inside: a reference for docker archives, any
 * `org.opencontainers.image.ref.name` for layouts (`kairos/ubuntu:T` included).
 */
import { usageError } from '../../errors.js';

export type SourceTransport =
  | { kind: 'docker-archive'; path: string; name?: string | undefined; index?: number | undefined }
  | { kind: 'oci-archive'; path: string; name?: string | undefined }
  | { kind: 'oci'; path: string; name?: string | undefined }
  | { kind: 'docker-daemon'; name: string };

/** A transport-prefixed string: a source above, or `docker://` naming a registry reference. */
export type ParsedTransport = SourceTransport | { kind: 'docker'; reference: string };

const PREFIXES = ['docker-archive:', 'oci-archive:', 'oci:', 'docker-daemon:', 'docker://'] as const;

/** True when `text` starts with a transport name kairos-img reads. */
export function hasTransport(text: string): boolean {
  return PREFIXES.some((p) => text.startsWith(p));
}

function splitPath(rest: string): { path: string; name: string | undefined } {
  const colon = rest.indexOf(':');
  return colon < 0 ? { path: rest, name: undefined } : { path: rest.slice(0, colon), name: rest.slice(colon + 1) };
}

function bad(text: string, problem: string, hint: string): never {
  throw usageError('BAD_SOURCE', `image source "${text}": ${problem}`, hint);
}

/** The transport of `text`, or undefined when it names none (a plain reference or catalog name). */
export function parseTransport(text: string): ParsedTransport | undefined {
  if (text.startsWith('docker://')) {
    const reference = text.slice('docker://'.length);
    if (reference === '') bad(text, 'the reference is missing', 'use docker://HOST/REPOSITORY:TAG, or the reference alone');
    return { kind: 'docker', reference };
  }
  if (text.startsWith('docker-daemon:')) {
    const name = text.slice('docker-daemon:'.length);
    if (name === '') bad(text, 'the image is missing', 'use docker-daemon:REPOSITORY:TAG or docker-daemon:sha256:<image id>');
    return { kind: 'docker-daemon', name };
  }
  for (const kind of ['docker-archive', 'oci-archive', 'oci'] as const) {
    const prefix = `${kind}:`;
    if (!text.startsWith(prefix)) continue;
    const { path, name } = splitPath(text.slice(prefix.length));
    const what = kind === 'oci' ? 'DIR' : 'FILE';
    if (path === '') bad(text, `the ${kind === 'oci' ? 'directory' : 'file'} is missing`, `use ${kind}:${what}[:${kind === 'docker-archive' ? 'REF' : 'NAME'}]`);
    if (name === '') bad(text, 'the name after the colon is empty', `use ${kind}:${path}, or name the image after the colon`);
    if (kind !== 'docker-archive') return { kind, path, name };
    if (name !== undefined && name.startsWith('@')) {
      if (!/^@\d{1,6}$/.test(name)) bad(text, `"${name}" is not an image number`, `use ${kind}:${path}:@0 for the first image in the archive`);
      return { kind, path, index: Number(name.slice(1)) };
    }
    return { kind, path, name };
  }
  return undefined;
}

/** The transport string again (paths as given): what reports and errors call the source. */
export function formatTransport(t: SourceTransport): string {
  switch (t.kind) {
    case 'docker-daemon': return `docker-daemon:${t.name}`;
    case 'docker-archive': return `docker-archive:${t.path}${t.index !== undefined ? `:@${t.index}` : t.name !== undefined ? `:${t.name}` : ''}`;
    default: return `${t.kind}:${t.path}${t.name !== undefined ? `:${t.name}` : ''}`;
  }
}
