/** Positional arguments: every image command takes `<flavor> <variant>` (or `talos <image>`) or one full reference. */
import { catalogNamedBy } from '../catalog/index.js';
import { usageError } from '../errors.js';
import { parseReference, type Reference } from '../reference/reference.js';
import { parseTransport, type SourceTransport } from '../store/sources/index.js';

/**
 * A catalog target carries the OS and the two words: an OS named by its own word (`talos <image>`)
 * stands where a Kairos flavor would and its image where the variant would, so every path that
 * carries flavor and variant (pull, unpack) reaches the right catalog.
 */
export type Target =
  | { kind: 'catalog'; os: string; flavor: string; variant: string }
  | { kind: 'reference'; reference: Reference; text: string }
  /** An image source without a registry: `docker-archive:`, `oci-archive:`, `oci:`, `docker-daemon:`. */
  | { kind: 'source'; source: SourceTransport; text: string };

/** A first argument with "/", ":" or "@" is a reference; anything else names a flavor (or an OS). */
export function looksLikeReference(arg: string): boolean {
  return /[/:@]/.test(arg);
}

export function parseTarget(args: readonly string[], opts: { defaultVariant?: string; usage: string }): Target {
  const [first, second, ...rest] = args;
  if (first === undefined) {
    throw usageError('MISSING_ARGUMENT', 'name an image: <flavor> <variant> or a full reference', `usage: ${opts.usage}`);
  }
  if (looksLikeReference(first)) {
    if (second !== undefined) {
      throw usageError('TOO_MANY_ARGUMENTS', `unexpected argument "${second}" after the reference ${first}`, `usage: ${opts.usage}`);
    }
    const transport = parseTransport(first);
    if (transport === undefined) return { kind: 'reference', reference: parseReference(first), text: first };
    if (transport.kind === 'docker') return { kind: 'reference', reference: parseReference(transport.reference), text: first };
    return { kind: 'source', source: transport, text: first };
  }
  if (rest.length > 0) throw usageError('TOO_MANY_ARGUMENTS', `unexpected argument "${rest[0]}"`, `usage: ${opts.usage}`);
  const catalog = catalogNamedBy(first);
  // A default variant stands in only for a flavor's variant, never for an OS's image.
  const variant = second ?? (catalog.positional.word === undefined ? opts.defaultVariant : undefined);
  if (variant === undefined) throw usageError('MISSING_ARGUMENT', catalog.positional.missing(first), `usage: ${opts.usage}`);
  return { kind: 'catalog', os: catalog.name, flavor: first, variant };
}
