/**
 * Progress of the ORAS artifact operations (push, attach, pull, discover) as typed data, in the
 * style of events.ts: what happened to which file, never text for a terminal. A file is named by
 * its title (two layers may share a digest, never a title).
 */
import type { CommonEvent } from './events.js';

export interface ArtifactFileInfo {
  title: string;
  kind: 'file' | 'directory';
  /** Known for files before they are read; for directories once packed. */
  size?: number | undefined;
}

/** Bytes of one file in flight: read for its digest, packed, uploaded or downloaded. */
export interface ArtifactBytesEvent {
  type: 'artifact-bytes';
  title: string;
  phase: 'digest' | 'pack' | 'upload' | 'download';
  bytes: number;
  /** undefined while a directory is being packed (its size is not known yet). */
  total?: number | undefined;
}

export type ArtifactPushEvent =
  | CommonEvent
  | { type: 'artifact-files'; files: ArtifactFileInfo[] }
  | ArtifactBytesEvent
  | { type: 'artifact-prepared'; title: string; digest: string; size: number }
  | { type: 'artifact-blob'; title: string; digest: string; how: 'exists' | 'mounted' | 'uploaded'; resumes: number; restarts: number }
  | { type: 'artifact-subject'; reference: string; digest: string; mediaType: string }
  | { type: 'artifact-manifest'; reference: string; digest: string; size: number }
  | { type: 'artifact-referrers'; via: 'registry' | 'tag-schema'; tag?: string | undefined; entries?: number | undefined };

export type ArtifactPullEvent =
  | CommonEvent
  | { type: 'artifact-files'; files: ArtifactFileInfo[] }
  | ArtifactBytesEvent
  | { type: 'artifact-skipped'; digest: string; mediaType: string; reason: string }
  | { type: 'artifact-file-done'; title: string; digest: string; size: number; entries?: number | undefined }
  | { type: 'artifact-committed'; files: number; outDir: string };

export type ArtifactDiscoverEvent =
  | CommonEvent
  | { type: 'artifact-subject'; reference: string; digest: string; mediaType: string }
  | { type: 'artifact-referrers-found'; count: number; via: 'api' | 'tag-schema' };
