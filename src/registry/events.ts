/** Events for verbose logs (auth, retry, redirect, resume). Never carry secrets. */
export type RegistryEvent =
  | { type: 'auth'; registry: string; message: string }
  | { type: 'retry'; registry: string; attempt: number; delayMs: number; reason: string }
  | { type: 'redirect'; registry: string; from: string; to: string }
  | { type: 'resume'; registry: string; digest: string; offset: number; restarted: boolean }
  /** A mirror did not serve the content: the next endpoint is asked. */
  | { type: 'fallback'; registry: string; from: string; to: string; reason: string };
