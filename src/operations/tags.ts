/**
 * A repository's tags, classified (release / pre-release / artifact / noise) and judged by the
 * versioning policy, newest first. For an image named positionally: the repositories its OS
 * catalog names (for Kairos every repository its naming eras use, with only that flavor's tags
 * kept where a repository is shared), judged only when Kairos verdicts apply to that OS.
 */
import { catalogFor, catalogNamedBy } from '../catalog/index.js';
import { KairosImgError } from '../errors.js';
import { evaluateAll, isReleaseTag, parseTag, type TagClass, type VerdictStatus } from '../policy/index.js';
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
  | { flavor: string; variant: string; arch?: string | undefined; model?: string | undefined; os?: string | undefined };

export interface ListTagsOptions {
  client: RegistryClient;
  target: TagsTarget;
  registry?: string | undefined;
  hostArch?: string | undefined;
  all?: boolean | undefined;
  /** Judge tags by the Kairos versioning policy; by default for repositories and for catalogs it applies to (not Talos). */
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
  let verdicts = opts.verdicts ?? true;
  if ('repository' in opts.target) {
    const name = repositoryName(opts.target.repository);
    lists.push({ repository: name, tags: await opts.client.listTags(opts.target.repository, { signal: opts.signal }) });
  } else {
    const { os, ...image } = opts.target;
    const catalog = os === undefined ? catalogNamedBy(image.flavor) : catalogFor(os);
    verdicts = opts.verdicts ?? catalog.kairosVerdicts;
    const repositories = await catalog.tagRepositories({ ...image, registry: opts.registry, hostArch: opts.hostArch });
    const source = tagSource(opts.client);
    for (const { repository, owns } of repositories) {
      const tags = await source.listTags(repository, opts.signal);
      if (tags === undefined) continue;
      lists.push({ repository: repositoryName(repository), tags: owns === undefined ? tags : tags.filter(owns) });
    }
    if (lists.length === 0) {
      throw new KairosImgError('NAME_UNKNOWN', `no repository of ${image.flavor} ${image.variant} exists on ${repositories[0]?.repository.registry ?? 'the registry'}`, {
        hint: `looked for ${repositories.map((r) => repositoryName(r.repository)).join(', ')}; check --registry`,
      });
    }
  }
  const all = lists.flatMap((l) => rows(l.repository, l.tags, verdicts));
  const shown = opts.all === true ? all : all.filter((r) => r.class !== 'noise');
  return { repositories: lists.map((l) => l.repository), tags: shown, hidden: all.length - shown.length };
}
