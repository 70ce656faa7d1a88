/** Reference templates of the catalog: `{flavor}`-style placeholders, expanded and matched. Pure. */

export const TEMPLATE_PLACEHOLDERS = ['flavor', 'family', 'variant', 'version', 'k3s', 'arch', 'model', 'flavorRelease', 'tag'] as const;
export type Placeholder = (typeof TEMPLATE_PLACEHOLDERS)[number];
export type TemplateValues = Partial<Record<Placeholder, string>>;

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

/** Expands a template; returns the names of the placeholders that had no value instead when any is missing. */
export function expandTemplate(template: string, values: TemplateValues): { text: string } | { missing: Placeholder[] } {
  const missing: Placeholder[] = [];
  const text = template.replace(PLACEHOLDER, (_m, name: string) => {
    const v = values[name as Placeholder];
    if (v === undefined) {
      missing.push(name as Placeholder);
      return '';
    }
    return v;
  });
  return missing.length > 0 ? { missing } : { text };
}

// What a free placeholder may match inside a tag. Versions are Kairos versions (semver with a
// leading v); k3s is written `v1.26.1-k3s1` in tags.
const FREE: Partial<Record<Placeholder, string>> = {
  version: 'v\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z]+(?:\\.[0-9A-Za-z]+)*)?',
  k3s: 'v\\d+\\.\\d+\\.\\d+-k3s\\d+',
};

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Builds a matcher for tags of a template where the given values are fixed and `version`/`k3s`
 * are free: `{version}-k3s{k3s}` matches `v1.5.1-k3sv1.26.1-k3s1` → {version: v1.5.1, k3s: v1.26.1-k3s1}.
 */
export function tagMatcher(template: string, fixed: TemplateValues): (tag: string) => { version?: string; k3s?: string } | undefined {
  const groups: Placeholder[] = [];
  let source = '';
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = (m[1] ?? '') as Placeholder;
    source += escapeRegex(template.slice(last, m.index));
    last = (m.index ?? 0) + m[0].length;
    const value = fixed[name];
    if (value !== undefined) source += escapeRegex(value);
    else if (FREE[name] !== undefined) {
      source += `(${FREE[name]})`;
      groups.push(name);
    } else source += '([0-9A-Za-z._-]+)', groups.push(name);
  }
  source += escapeRegex(template.slice(last));
  const re = new RegExp(`^${source}$`);
  return (tag) => {
    const m = re.exec(tag);
    if (m === null) return undefined;
    const out: { version?: string; k3s?: string } = {};
    groups.forEach((g, i) => {
      const v = m[i + 1];
      if (v !== undefined && (g === 'version' || g === 'k3s')) out[g] = v;
    });
    return out;
  };
}
