/**
 * A repository's tags, classified (release / pre-release / artifact / noise) and judged by the
 * versioning policy, newest first. For a flavor and variant: every repository its naming eras
 * use, with only that flavor's tags kept where a repository is shared (v2.4.2+ family repositories).
 */
import { loadCatalog } from '../catalog/load.js';
import { tagSearches } from '../catalog/resolve.js';
import { KairosImgError } from '../errors.js';
import { evaluateAll, formatTag, imageOf, isReleaseTag, parseTag, type TagClass, type VerdictStatus } from '../policy/index.js';
import { repositoryName, type Reference } from '../reference/reference.js';
import type { RegistryClient } from '../registry/index.js';
import { tagSource } from './client.js';

export interface TagRow {
  repository: string;
  tag: string;
  class: TagClass;
  version?: string | undefined;
  k3s?: string | undefined;
  status?: VerdictStatus | undefined;
  reason?: string | undefined;
  upgradeTo?: string | undefined;
}

export interface TagListing {
  repositories: string[];
  tags: TagRow[];
  hidden: number;
}

export type TagsTarget =
  | { repository: Pick<Reference, 'registry' | 'repository'> }
  | { flavor: string; variant: string; arch?: string | undefined; model?: string | undefined };

export interface ListTagsOptions {
  client: RegistryClient;
  target: TagsTarget;
  registry?: string | undefined;
  hostArch?: string | undefined;
  all?: boolean | undefined;
  /** Judge tags by the Kairos versioning policy (not for other operating systems' repositories). */
  verdicts?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

function rows(repository: string, tags: readonly string[], verdicts: boolean): TagRow[] {
  return evaluateAll(tags).map((e) => {
    const parsed = parseTag(e.tag);
    return {
      repository,
      tag: e.tag,
      class: e.kind,
      ...(isReleaseTag(parsed) ? { version: parsed.version, k3s: parsed.k3s } : {}),
      ...(e.verdict === undefined || !verdicts ? {} : { status: e.verdict.status, reason: e.verdict.reason, upgradeTo: e.verdict.upgradeTo }),
    };
  });
}

export async function listTags(opts: ListTagsOptions): Promise<TagListing> {
  const lists: Array<{ repository: string; tags: string[] }> = [];
  if ('repository' in opts.target) {
    const name = repositoryName(opts.target.repository);
    lists.push({ repository: name, tags: await opts.client.listTags(opts.target.repository, { signal: opts.signal }) });
  } else {
    const catalog = await loadCatalog('kairos');
    const searches = tagSearches(catalog, { ...opts.target, registry: opts.registry, hostArch: opts.hostArch });
    const source = tagSource(opts.client);
    const byRepo = new Map<string, { ref: Reference; matchers: Array<(t: string) => boolean> }>();
    for (const s of searches) {
      const name = repositoryName(s.repository);
      const entry = byRepo.get(name) ?? { ref: s.repository, matchers: [] };
      entry.matchers.push(s.matchShape);
      byRepo.set(name, entry);
    }
    for (const [name, { ref, matchers }] of byRepo) {
      const tags = await source.listTags(ref, opts.signal);
      if (tags === undefined) continue;
      const mine = tags.filter((t) => {
        const p = parseTag(t);
        if (!isReleaseTag(p)) return true;
        const image = formatTag(imageOf(p));
        return matchers.some((m) => m(image));
      });
      lists.push({ repository: name, tags: mine });
    }
    if (lists.length === 0) {
      throw new KairosImgError('NAME_UNKNOWN', `no repository of ${opts.target.flavor} ${opts.target.variant} exists on ${searches[0]?.repository.registry ?? 'the registry'}`, {
        hint: `looked for ${[...byRepo.keys()].join(', ')}; check --registry`,
      });
    }
  }
  const all = lists.flatMap((l) => rows(l.repository, l.tags, opts.verdicts !== false));
  const shown = opts.all === true ? all : all.filter((r) => r.class !== 'noise');
  return { repositories: lists.map((l) => l.repository), tags: shown, hidden: all.length - shown.length };
}
