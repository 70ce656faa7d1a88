/**
 * os-release(5) files (`/etc/os-release`, `/usr/lib/os-release`, Kairos' `/etc/kairos-release`)
 * → key/value records, pure. Hand-written: the format is a tiny shell-compatible subset (KEY=value,
 * optional single or double quotes, backslash escapes, `#` comments), and the npm parsers for it
 * either shell out, read the host's file, or drop the escapes; we parse bytes read from a layer.
 *
 * Shell rules kept: the last assignment of a key wins (Kairos v2 appends its keys to the
 * distribution's file), `export KEY=value` is an assignment, an unquoted value ends at a space
 * or `#` comment. Lines that are not assignments are reported, not fatal: the files are
 * informational and a stray line must not hide the keys around it.
 */

export interface OsRelease {
  /** Keys in file order, last assignment winning. */
  readonly values: ReadonlyMap<string, string>;
  /** 1-based line numbers with what was wrong there. */
  readonly problems: ReadonlyArray<{ readonly line: number; readonly problem: string }>;
}

const ASSIGNMENT = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
/** Characters a backslash escapes inside double quotes (POSIX sh). */
const DOUBLE_QUOTE_ESCAPES = new Set(['$', '`', '"', '\\']);

type ValueResult = { value: string } | { problem: string };

function parseValue(raw: string): ValueResult {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i] as string;
    if (c === '"') {
      const end = scanDouble(raw, i + 1);
      if (end === undefined) return { problem: 'unterminated double quote' };
      out += end.text;
      i = end.next;
    } else if (c === "'") {
      const close = raw.indexOf("'", i + 1);
      if (close < 0) return { problem: 'unterminated single quote' };
      out += raw.slice(i + 1, close);
      i = close + 1;
    } else if (c === '\\') {
      out += raw[i + 1] ?? '';
      i += 2;
    } else if (c === ' ' || c === '\t') {
      const rest = raw.slice(i).trimStart();
      if (rest === '' || rest.startsWith('#')) break;
      return { problem: 'unquoted value contains a space' };
    } else {
      out += c;
      i++;
    }
  }
  return { value: out };
}

function scanDouble(raw: string, from: number): { text: string; next: number } | undefined {
  let text = '';
  for (let i = from; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '"') return { text, next: i + 1 };
    if (c === '\\' && i + 1 < raw.length && DOUBLE_QUOTE_ESCAPES.has(raw[i + 1] as string)) {
      text += raw[i + 1];
      i++;
    } else {
      text += c;
    }
  }
  return undefined;
}

export function parseOsRelease(text: string): OsRelease {
  const values = new Map<string, string>();
  const problems: Array<{ line: number; problem: string }> = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = ASSIGNMENT.exec(trimmed);
    if (!m) {
      problems.push({ line: index + 1, problem: `not a KEY=value assignment: ${JSON.stringify(trimmed.slice(0, 80))}` });
      return;
    }
    const key = m[1] as string;
    const parsed = parseValue(m[2] as string);
    if ('problem' in parsed) {
      problems.push({ line: index + 1, problem: `${key}: ${parsed.problem}` });
      return;
    }
    // Delete first so that a re-assigned key moves to its last position, as it would when sourced.
    values.delete(key);
    values.set(key, parsed.value);
  });
  return { values, problems };
}
