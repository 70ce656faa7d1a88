/**
 * The kairos-img configuration file: registry mirrors every command honours (the idea of
 * containerd's `hosts.toml` and containers' `registries.conf`, in YAML):
 *
 *   mirrors:
 *     quay.io:
 *       - host: registry.site.local:5000   # HOST[:PORT]
 *         plainHttp: false                 # optional, default false
 *         prefix: quay                     # optional: the repositories live under this path on the mirror
 *
 * `parseConfig` is pure and reports every problem by its key (changesets' `config/src/parse.ts`
 * shape); `loadConfig` finds and reads the file. Hand-written: a schema library for one small map
 * would cost more than these checks.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { KairosImgError, isErrnoError } from '../errors.js';
import { normalizeRegistryHost } from '../reference/reference.js';
import { yamlPackage } from '../lazy-packages.js';

export interface MirrorEndpoint {
  /** `HOST[:PORT]` of the mirror's registry API. */
  host: string;
  plainHttp: boolean;
  /** Path under which the mirror keeps the upstream's repositories (`quay` → `host/quay/kairos/...`). */
  prefix?: string | undefined;
}

export interface KairosImgConfig {
  /** Upstream registry host → mirrors, tried in order before the upstream. */
  mirrors: Readonly<Record<string, readonly MirrorEndpoint[]>>;
  /** The file it came from (undefined: none). */
  file?: string | undefined;
}

export const EMPTY_CONFIG: KairosImgConfig = { mirrors: {} };

/** `$KAIROS_IMG_CONFIG`, else `$XDG_CONFIG_HOME/kairos-img/config.yaml`, else `~/.config/kairos-img/config.yaml`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): { file: string; explicit: boolean } {
  if (env.KAIROS_IMG_CONFIG) return { file: path.resolve(env.KAIROS_IMG_CONFIG), explicit: true };
  const base = env.XDG_CONFIG_HOME ? path.resolve(env.XDG_CONFIG_HOME) : path.join(env.HOME || homedir(), '.config');
  return { file: path.join(base, 'kairos-img', 'config.yaml'), explicit: false };
}

const PREFIX = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validHost(text: string): string | undefined {
  try {
    const h = normalizeRegistryHost(text);
    return h === text ? h : undefined;
  } catch {
    return undefined;
  }
}

/** The configuration in `doc` (parsed YAML), or the list of problems, each naming its key. Pure. */
export function validateConfig(doc: unknown): { config: KairosImgConfig; errors: string[] } {
  const errors: string[] = [];
  const mirrors: Record<string, MirrorEndpoint[]> = {};
  if (doc === null || doc === undefined) return { config: { mirrors }, errors };
  if (!isRecord(doc)) return { config: { mirrors }, errors: ['the file must be a mapping with the key "mirrors"'] };
  for (const key of Object.keys(doc)) if (key !== 'mirrors') errors.push(`${key}: unknown key (known: mirrors)`);
  const m = doc.mirrors;
  if (m === undefined || m === null) return { config: { mirrors }, errors };
  if (!isRecord(m)) return { config: { mirrors }, errors: [...errors, 'mirrors: must map a registry host to a list of mirrors'] };
  for (const [upstream, list] of Object.entries(m)) {
    const at = `mirrors.${upstream}`;
    if (validHost(upstream) === undefined) errors.push(`${at}: "${upstream}" is not a registry host (HOST[:PORT], e.g. quay.io)`);
    if (!Array.isArray(list)) {
      errors.push(`${at}: must be a list of mirrors (- host: HOST[:PORT])`);
      continue;
    }
    const out: MirrorEndpoint[] = [];
    list.forEach((entry: unknown, i) => {
      const here = `${at}[${i}]`;
      if (typeof entry === 'string') entry = { host: entry };
      if (!isRecord(entry)) {
        errors.push(`${here}: must be a mapping with host (and optionally plainHttp, prefix)`);
        return;
      }
      for (const k of Object.keys(entry)) if (!['host', 'plainHttp', 'prefix'].includes(k)) errors.push(`${here}.${k}: unknown key (known: host, plainHttp, prefix)`);
      const host = typeof entry.host === 'string' ? validHost(entry.host) : undefined;
      if (host === undefined) errors.push(`${here}.host: ${entry.host === undefined ? 'missing' : `${JSON.stringify(entry.host)} is not HOST[:PORT] (no scheme, no path)`}`);
      if (entry.plainHttp !== undefined && typeof entry.plainHttp !== 'boolean') errors.push(`${here}.plainHttp: must be true or false, not ${JSON.stringify(entry.plainHttp)}`);
      const prefix = entry.prefix;
      if (prefix !== undefined && (typeof prefix !== 'string' || !PREFIX.test(prefix))) {
        errors.push(`${here}.prefix: ${JSON.stringify(prefix)} is not a repository path (lower-case components separated by /)`);
      }
      if (host !== undefined) out.push({ host, plainHttp: entry.plainHttp === true, ...(typeof prefix === 'string' ? { prefix } : {}) });
    });
    mirrors[upstream] = out;
  }
  return { config: { mirrors }, errors };
}

/** Parses and validates config text; any problem is CONFIG_INVALID naming the file and the keys. */
export function parseConfig(text: string, file: string): KairosImgConfig {
  let doc: unknown;
  const yaml = yamlPackage();
  try {
    doc = yaml.parse(text, { uniqueKeys: true });
  } catch (e) {
    const where = e instanceof yaml.YAMLParseError && e.linePos?.[0] !== undefined ? ` (line ${e.linePos[0].line})` : '';
    throw new KairosImgError('CONFIG_INVALID', `${file}${where}: not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, {
      hint: 'fix the file, or point KAIROS_IMG_CONFIG at another one', cause: e,
    });
  }
  const { config, errors } = validateConfig(doc);
  if (errors.length > 0) {
    throw new KairosImgError('CONFIG_INVALID', `invalid configuration ${file}: ${errors.join('; ')}`, {
      hint: 'the file looks like: mirrors: { quay.io: [ { host: registry.site.local:5000, plainHttp: false } ] }',
      details: { file, errors },
    });
  }
  return { ...config, file };
}

/**
 * Reads the configuration file; none at the default place is an empty configuration. Synchronous
 * (a small file, read once per process and file): the registry client consults it when it is made.
 */
export function loadConfigSync(opts: { env?: NodeJS.ProcessEnv | undefined } = {}): KairosImgConfig {
  const { file, explicit } = configPath(opts.env ?? process.env);
  let text: string;
  let key: string;
  try {
    // Cached per file version: a file edited between two runs in one process is read again.
    const st = statSync(file);
    key = `${file}\0${st.mtimeMs}\0${st.size}`;
    const cached = loaded.get(key);
    if (cached !== undefined) return cached;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (isErrnoError(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR') && !explicit) return EMPTY_CONFIG;
    if (isErrnoError(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) {
      throw new KairosImgError('CONFIG_INVALID', `KAIROS_IMG_CONFIG names ${file}, which does not exist`, { hint: 'create it, or unset KAIROS_IMG_CONFIG' });
    }
    throw new KairosImgError('CONFIG_UNREADABLE', `cannot read the configuration ${file}: ${isErrnoError(e) ? e.code : String(e)}`, { cause: e });
  }
  const config = parseConfig(text, file);
  loaded.set(key, config);
  return config;
}

const loaded = new Map<string, KairosImgConfig>();

export async function loadConfig(opts: { env?: NodeJS.ProcessEnv | undefined } = {}): Promise<KairosImgConfig> {
  return loadConfigSync(opts);
}
