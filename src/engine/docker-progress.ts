/**
 * The engine's pull progress stream (JSON lines: `{id, status, progressDetail: {current, total}}`,
 * or `{error, errorDetail}`) folded into per-layer state. Pure: docker-pull.ts feeds it lines.
 * Layer ids are the first 12 hex digits of the compressed layer digest, which is how the engine
 * names them, so a manifest's layers can be matched to the stream.
 */

export interface PullMessage {
  id?: string | undefined;
  status?: string | undefined;
  current?: number | undefined;
  total?: number | undefined;
  error?: string | undefined;
}

export type LayerPhase = 'waiting' | 'downloading' | 'retrying' | 'verifying' | 'downloaded' | 'extracting' | 'done';

export interface LayerProgress {
  phase: LayerPhase;
  /** Bytes of the current phase (download or extraction), and its total when the engine knows it. */
  current: number;
  total: number;
  /** The engine already had the layer. */
  cached: boolean;
  /** The engine's own words, e.g. "Retrying in 5 seconds". */
  status: string;
}

export interface PullProgressState {
  layers: Readonly<Record<string, LayerProgress>>;
  /** The registry digest the engine reports ("Digest: sha256:…"). */
  digest?: string | undefined;
  upToDate: boolean;
  /** The engine's final status line ("Status: …"). */
  final?: string | undefined;
  error?: string | undefined;
}

export function pullProgressState(): PullProgressState {
  return { layers: {}, upToDate: false };
}

/** One line of the stream; undefined for a blank line. Text that is not JSON is kept as a status. */
export function parsePullMessage(line: string): PullMessage | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { status: text };
  }
  if (typeof doc !== 'object' || doc === null) return { status: text };
  const d = doc as Record<string, unknown>;
  const detail = (typeof d['progressDetail'] === 'object' && d['progressDetail'] !== null ? d['progressDetail'] : {}) as Record<string, unknown>;
  const errorDetail = (typeof d['errorDetail'] === 'object' && d['errorDetail'] !== null ? d['errorDetail'] : {}) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return {
    id: str(d['id']),
    status: str(d['status']),
    current: num(detail['current']),
    total: num(detail['total']),
    error: str(errorDetail['message']) ?? str(d['error']),
  };
}

const LAYER_PHASES: ReadonlyArray<[RegExp, LayerPhase]> = [
  [/^Pulling fs layer$/i, 'waiting'],
  [/^Waiting$/i, 'waiting'],
  [/^Downloading$/i, 'downloading'],
  [/^Retrying in /i, 'retrying'],
  [/^Verifying Checksum$/i, 'verifying'],
  [/^Download complete$/i, 'downloaded'],
  [/^Extracting$/i, 'extracting'],
  [/^Pull complete$/i, 'done'],
  [/^Already exists$/i, 'done'],
];

function layerPhase(status: string): LayerPhase | undefined {
  for (const [re, phase] of LAYER_PHASES) if (re.test(status)) return phase;
  return undefined;
}

/** The state after one message (a new object; the old one is untouched). */
export function applyPullMessage(state: PullProgressState, msg: PullMessage): PullProgressState {
  if (msg.error !== undefined) return { ...state, error: msg.error };
  const status = msg.status ?? '';
  const digest = /^Digest:\s*(sha256:[a-f0-9]{64})/.exec(status);
  if (digest !== null) return { ...state, digest: digest[1] };
  if (/^Status:/i.test(status)) {
    return { ...state, final: status.replace(/^Status:\s*/i, ''), upToDate: /up to date/i.test(status) };
  }
  const phase = layerPhase(status);
  if (phase === undefined || msg.id === undefined) return state;
  const prev = state.layers[msg.id];
  const cached = /^Already exists$/i.test(status);
  const next: LayerProgress = {
    phase,
    current: msg.current ?? (phase === 'downloaded' || phase === 'done' ? (prev?.total ?? 0) : phase === prev?.phase ? prev.current : 0),
    total: msg.total ?? prev?.total ?? 0,
    cached: cached || (prev?.cached ?? false),
    status,
  };
  if (phase === 'downloaded' || phase === 'done') next.current = next.total;
  return { ...state, layers: { ...state.layers, [msg.id]: next } };
}

/** The id the engine uses for a layer in its progress stream. */
export function layerProgressId(digest: string): string {
  return digest.replace(/^[a-z0-9]+:/, '').slice(0, 12);
}
