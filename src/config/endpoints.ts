/**
 * Which hosts serve a registry's content, in order (pure): its mirrors from the configuration,
 * then the registry itself — the containerd `hosts.toml` rule. Offline, a registry that has
 * mirrors is never asked itself (the site's mirrors are all there is); one without mirrors is the
 * site's own and is asked as usual. A mirror keeps the upstream's repository paths, optionally
 * under a prefix.
 */
import type { KairosImgConfig } from './config.js';

export interface Endpoint {
  /** The host requests go to. */
  host: string;
  /** The repository path there for an upstream repository path. */
  repository(upstreamRepository: string): string;
  plainHttp: boolean | undefined;
  /** False for the upstream registry itself. */
  mirror: boolean;
}

export function endpointsFor(config: Pick<KairosImgConfig, 'mirrors'>, registry: string, opts: { offline?: boolean | undefined } = {}): Endpoint[] {
  const mirrors = (config.mirrors[registry] ?? []).map((m): Endpoint => ({
    host: m.host,
    repository: (r) => (m.prefix === undefined ? r : `${m.prefix}/${r}`),
    plainHttp: m.plainHttp,
    mirror: true,
  }));
  const upstream: Endpoint = { host: registry, repository: (r) => r, plainHttp: undefined, mirror: false };
  return opts.offline === true && mirrors.length > 0 ? mirrors : [...mirrors, upstream];
}

/** `KAIROS_IMG_OFFLINE=1`: content from mirrors only, never from an upstream registry. */
export function offlineFromEnv(env: NodeJS.ProcessEnv): boolean {
  const v = env.KAIROS_IMG_OFFLINE;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}
