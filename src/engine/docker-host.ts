/**
 * Where the Docker engine listens: `DOCKER_HOST` (unix:// or tcp://, TLS through DOCKER_TLS_VERIFY
 * and DOCKER_CERT_PATH as the docker CLI reads them) or the default socket. Pure: the caller reads
 * certificate files and dials. docker-modem has its own DOCKER_HOST parsing, but it silently falls
 * back to the default socket on forms it does not know and cannot say which socket it tried.
 */
import path from 'node:path';
import { usageError } from '../errors.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export type EngineAddress =
  | { kind: 'unix'; socketPath: string; display: string; fromEnv: boolean }
  | { kind: 'tcp'; host: string; port: number; tls: boolean; certPath?: string | undefined; display: string; fromEnv: true };

function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export function engineAddress(env: NodeJS.ProcessEnv): EngineAddress {
  const raw = env['DOCKER_HOST']?.trim();
  if (raw === undefined || raw === '') {
    return { kind: 'unix', socketPath: DEFAULT_DOCKER_SOCKET, display: `unix://${DEFAULT_DOCKER_SOCKET}`, fromEnv: false };
  }
  const bad = (why: string): never => {
    throw usageError('BAD_DOCKER_HOST', `DOCKER_HOST=${raw} ${why}`, 'use DOCKER_HOST=unix:///path/to/docker.sock or DOCKER_HOST=tcp://HOST:PORT');
  };
  if (raw.startsWith('unix://')) {
    const socketPath = raw.slice('unix://'.length);
    if (!path.isAbsolute(socketPath)) bad('does not name an absolute socket path');
    return { kind: 'unix', socketPath, display: raw, fromEnv: true };
  }
  if (raw.startsWith('tcp://') || raw.startsWith('http://') || raw.startsWith('https://')) {
    let url: URL;
    try {
      url = new URL(raw.replace(/^tcp:/, 'http:'));
    } catch {
      return bad('is not a valid address');
    }
    const tls = raw.startsWith('https://') || truthy(env['DOCKER_TLS_VERIFY']);
    // The docker CLI's defaults: 2376 with TLS, 2375 without.
    const port = url.port === '' ? (tls ? 2376 : 2375) : Number(url.port);
    const certDir = env['DOCKER_CERT_PATH'];
    return {
      kind: 'tcp', host: url.hostname.replace(/^\[|\]$/g, ''), port, tls,
      certPath: tls ? (certDir !== undefined && certDir !== '' ? certDir : path.join(env['HOME'] ?? '', '.docker')) : undefined,
      display: raw, fromEnv: true,
    };
  }
  if (raw.startsWith('ssh://') || raw.startsWith('npipe://') || raw.startsWith('fd://')) {
    return bad(`uses a transport (${raw.split(':')[0] ?? ''}) kairos-img does not speak`);
  }
  return bad('is not a unix:// or tcp:// address');
}
