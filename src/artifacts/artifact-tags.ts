/**
 * Which tags of a repository name disk-image artifacts, pure: `.img`/`-img` tags by the policy's
 * classification, and every release tag of a `-img` repository (v2.0.0-alpha3 – v2.4.1 kept
 * artifacts in `core-<flavor>-img` under the image's own tag).
 */
import { classifyTag, sortTags } from '../policy/index.js';

export function isArtifactRepository(repository: string): boolean {
  return repository.endsWith('-img');
}

/** Artifact tags, newest first. */
export function artifactTags(repository: string, tags: readonly string[]): string[] {
  const inImgRepo = isArtifactRepository(repository);
  const kept = tags.filter((t) => {
    const c = classifyTag(t);
    return c === 'artifact' || (inImgRepo && (c === 'release' || c === 'prerelease'));
  });
  return sortTags(kept);
}
