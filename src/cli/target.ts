/** Positional arguments: every image command takes `<flavor> <variant>` or one full reference. */
import { usageError } from '../errors.js';
import { parseReference, type Reference } from '../reference/reference.js';

export type Target =
  | { kind: 'catalog'; os: string; flavor: string; variant: string }
  | { kind: 'reference'; reference: Reference; text: string };

/**
 * Other operating systems with a catalog: `talos <image>` names a Talos image. The OS name stands
 * where a Kairos flavor would and the image where the variant would, so every path that carries
 * flavor and variant (pull, unpack) reaches the right catalog; resolution dispatches on the OS.
 */
export const OTHER_OS_CATALOGS: readonly string[] = ['talos'];

/** A first argument with "/", ":" or "@" is a reference; anything else names a flavor. */
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
    return { kind: 'reference', reference: parseReference(first), text: first };
  }
  if (rest.length > 0) throw usageError('TOO_MANY_ARGUMENTS', `unexpected argument "${rest[0]}"`, `usage: ${opts.usage}`);
  if (OTHER_OS_CATALOGS.includes(first)) {
    if (second === undefined) throw usageError('MISSING_ARGUMENT', `name the ${first} image after "${first}", e.g. ${first} installer`, `usage: ${opts.usage}`);
    return { kind: 'catalog', os: first, flavor: first, variant: second };
  }
  const variant = second ?? opts.defaultVariant;
  if (variant === undefined) {
    throw usageError('MISSING_ARGUMENT', `name the variant after the flavor: ${first} core or ${first} standard`, `usage: ${opts.usage}`);
  }
  return { kind: 'catalog', os: 'kairos', flavor: first, variant };
}
