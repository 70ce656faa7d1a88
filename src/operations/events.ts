/**
 * Progress of the operations as typed data. An operation reports what happened (a reference was
 * resolved, a layer moved N bytes, a check ran); it never formats text for a terminal — the CLI's
 * task lists (src/cli/progress/) turn these into lines, and a library caller may ignore them.
 * Events carry no secrets.
 */
import type { RegistryEvent } from '../registry/events.js';
import type { ResolutionFacts } from './resolve.js';

/** The image was named: `source` says whether the registry or only the cache was consulted. */
export interface ResolvedEvent {
  type: 'resolved';
  reference: string;
  /** `transport`: an image source without a registry (an archive, a layout, the engine). */
  source: 'catalog' | 'reference' | 'cache' | 'transport';
  resolution?: ResolutionFacts | undefined;
}

export interface ManifestEvent {
  type: 'manifest';
  /** The image manifest (the platform's one for an index). */
  digest: string;
  indexDigest?: string | undefined;
  platform?: string | undefined;
  layers: number;
  /** Compressed size of the layers. */
  size: number;
  fromCache: boolean;
}

/** Request-level facts for verbose logs: auth rounds, retries, redirects, resumed blobs. */
export interface RegistryLogEvent {
  type: 'registry';
  event: RegistryEvent;
}

export interface WarningEvent {
  type: 'warning';
  message: string;
}

/** A detail for verbose logs (a subprocess started, …). */
export interface LogEvent {
  type: 'log';
  message: string;
}

/** The image's signatures were checked against the policy (`signature verify`, `verify`, and the gate of every command that writes). */
export interface SignatureCheckedEvent {
  type: 'signature-checked';
  verified: boolean;
  /** Signatures found (both schemes, all subjects). */
  found: number;
  /** The policy in words. */
  policy: string;
  /** The identity of the first signature that satisfied the policy (keyless). */
  identity?: string | undefined;
}

export type CommonEvent = ResolvedEvent | ManifestEvent | RegistryLogEvent | WarningEvent | LogEvent | SignatureCheckedEvent;

export interface LayerRef {
  digest: string;
  size: number;
}

/** Bytes of one blob in transit: cumulative `bytes` of `total`. */
export interface TransferEvent {
  type: 'transfer';
  digest: string;
  bytes: number;
  total: number;
}

export type PullEvent =
  | CommonEvent
  | { type: 'layers'; layers: LayerRef[] }
  | TransferEvent
  | { type: 'layer-done'; digest: string; cached: boolean }
  | { type: 'blob-retry'; digest: string; reason: string }
  | { type: 'verified'; fetched: number; cached: number }
  | { type: 'layout'; dir: string; tag: string; converted: boolean };

export type UnpackEvent =
  | CommonEvent
  | { type: 'unpack-start'; layers: number; size: number }
  /** `bytes`: compressed bytes of all layers applied so far, of `total`. */
  | { type: 'unpack-progress'; layer: number; layers: number; bytes: number; total: number; entries: number }
  | { type: 'unpacked'; layers: number; entries: number; bytes: number; seconds: number }
  | { type: 'recorded'; digest: string };

export type UnpackViaEvent =
  | CommonEvent
  | { type: 'via-start'; engine: 'docker' | 'luet' }
  | { type: 'via-progress'; entries: number; bytes: number }
  | { type: 'via-done'; engine: 'docker' | 'luet'; entries: number; inEngine: boolean };

export type VerifyEvent =
  | CommonEvent
  | { type: 'tags'; repository: string; count: number }
  | { type: 'config'; architecture: string | undefined }
  | { type: 'release-files-skipped'; reason: string }
  | { type: 'release-files-layer'; layer: number; layers: number }
  | { type: 'release-files'; layersRead: number; layersTotal: number; bytesRead: number; bytesTotal: number }
  | { type: 'checked'; ok: boolean; failed: number };

export type ReleasesEvent =
  | CommonEvent
  | { type: 'release-files-layer'; layer: number; layers: number }
  | { type: 'release-files'; layersRead: number; layersTotal: number; bytesRead: number; bytesTotal: number }
  | { type: 'system'; source: string; flavor: string; version?: string | undefined }
  | { type: 'tags'; repository: string; count: number }
  | { type: 'candidates'; count: number }
  | Exclude<DiffEvent, CommonEvent & { image?: 'a' | 'b' | undefined }>;

export type SignatureEvent = CommonEvent;

export type SbomEvent =
  | CommonEvent
  | { type: 'attachments'; found: number }
  | { type: 'attachment-saved'; digest: string; path: string; size: number };

/** `diff` reads two images: which one an event is about. */
export type DiffEvent =
  | (CommonEvent & { image?: 'a' | 'b' | undefined })
  | { type: 'diff-layer'; image: 'a' | 'b'; layer: number; layers: number }
  | { type: 'diff-read'; image: 'a' | 'b'; reference: string; layersRead: number; layersTotal: number; bytesRead: number; bytesTotal: number }
  | { type: 'diffed'; changes: number };

export type ExtractImgEvent =
  | CommonEvent
  | { type: 'extract-start'; engine: 'native' | 'luet' }
  | { type: 'extract-progress'; bytes: number; total: number }
  | { type: 'extracted'; files: number; images: number; verified: number; seconds: number };

export type EnginePullEvent =
  | CommonEvent
  | { type: 'engine'; version: string; host: string }
  | { type: 'cached-image'; digest: string; layers: number }
  | { type: 'load-progress'; bytes: number; total: number }
  | { type: 'loaded'; imageId: string; seconds: number }
  /** Layers as the engine names them (short ids), when the engine pull starts. */
  | { type: 'engine-layers'; layers: Array<{ id: string; size: number }> }
  | { type: 'engine-layer'; id: string; phase: string; status: string; current: number; total: number }
  | { type: 'engine-layer-done'; id: string; cached: boolean }
  | { type: 'engine-pulled'; imageId: string; upToDate: boolean; seconds: number };

/** Where an operation sends its events; absent: nothing is reported. */
export type OnEvent<E> = ((event: E) => void) | undefined;

export function emitter<E>(onEvent: OnEvent<E>): (event: E) => void {
  if (onEvent === undefined) return () => undefined;
  return (event) => {
    // A listener that throws must not break the operation (it is only watching).
    try {
      onEvent(event);
    } catch {
      // ignored on purpose
    }
  };
}
