/** Positional arguments: every image command takes `<flavor> <variant>` or one full reference. */
import { usageError } from '../errors.js';
import { parseReference, type Reference } from '../reference/reference.js';

export type Target =
  | { kind: 'catalog'; os: string; flavor: string; variant: string }
  | { kind: 'reference'; reference: Reference; text: string };

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
  const variant = second ?? opts.defaultVariant;
  if (variant === undefined) {
    throw usageError('MISSING_ARGUMENT', `name the variant after the flavor: ${first} core or ${first} standard`, `usage: ${opts.usage}`);
  }
  return { kind: 'catalog', os: 'kairos', flavor: first, variant };
}
