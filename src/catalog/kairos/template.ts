/** Reference templates of the catalog: `{flavor}`-style placeholders, expanded and matched. Pure. */
import { KAIROS_VERSION_PATTERN } from '../../version/kairos.js';
import { K3S_PATTERN } from '../../version/k3s.js';
import { K8S_DISTRO_NAMES, K8S_PATTERN } from '../../version/k8s.js';
import { FLAVOR_RELEASE_PATTERN } from '../../version/flavor-release.js';

export const TEMPLATE_PLACEHOLDERS = ['flavor', 'family', 'variant', 'version', 'k3s', 'arch', 'model', 'flavorRelease', 'distro', 'k8s', 'k8sDigits', 'uki', 'tag'] as const;
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

// What a free placeholder may match inside a tag: the version module's grammars.
const FREE: Partial<Record<Placeholder, string>> = {
  version: KAIROS_VERSION_PATTERN,
  k3s: K3S_PATTERN,
  k8s: K8S_PATTERN,
  k8sDigits: K8S_PATTERN.replace(/v/g, ''),
  distro: K8S_DISTRO_NAMES.join('|'),
  flavorRelease: FLAVOR_RELEASE_PATTERN,
  uki: '(?:-uki)?',
};

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Whether a tag has the shape of a template where the given values are fixed and the others are
 * free: `{version}-k3s{k3s}` fits `v1.5.1-k3sv1.26.1-k3s1`. It tells which repository, flavor and
 * line a tag belongs to; what the versions in it are, the policy's tag grammar reads (`parseTag`).
 */
export function tagShape(template: string, fixed: TemplateValues): (tag: string) => boolean {
  let source = '';
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = (m[1] ?? '') as Placeholder;
    source += escapeRegex(template.slice(last, m.index));
    last = (m.index ?? 0) + m[0].length;
    const value = fixed[name];
    source += value !== undefined ? escapeRegex(value) : `(?:${FREE[name] ?? '[0-9A-Za-z._-]+'})`;
  }
  source += escapeRegex(template.slice(last));
  const re = new RegExp(`^${source}$`);
  return (tag) => re.test(tag);
}
