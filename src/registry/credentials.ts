/**
 * Registry credentials from Docker's client config (`$DOCKER_CONFIG/config.json`, default
 * `~/.docker/config.json`): `auths` entries (base64 `auth`, or `username`/`password`,
 * `identitytoken`, `registrytoken`), `credHelpers[host]` and `credsStore` through
 * `docker-credential-<name> get`. No npm package reads credential helpers, hence this module.
 * Lookup is pure (findAuthEntry, helperFor); reading the file and running helpers are the edges.
 * Every lookup reports where it looked so an UNAUTHORIZED error can say it — never the secret.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { execaPackage } from '../lazy-packages.js';
import { KairosImgError } from '../errors.js';
import { registerCredentials, registerSecret } from '../redact.js';

export interface Credentials {
  username?: string | undefined;
  password?: string | undefined;
  /** OAuth2 refresh token (`identitytoken`, or a helper answering Username `<token>`). */
  identityToken?: string | undefined;
  /** A bearer token sent as is (`registrytoken`). */
  registryToken?: string | undefined;
}

export interface CredentialLookup {
  credentials?: Credentials | undefined;
  /** Where we looked, for messages: "auths[\"quay.io\"] in /root/.docker/config.json". */
  source: string;
}

export interface CredentialSource {
  lookup(registry: string, signal?: AbortSignal): Promise<CredentialLookup>;
}

export interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface DockerConfig {
  auths?: Record<string, DockerAuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOSTS = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG && env.DOCKER_CONFIG !== '' ? env.DOCKER_CONFIG : path.join(env.HOME || homedir(), '.docker');
  return path.join(dir, 'config.json');
}

/** `https://quay.io/v2/` → `quay.io`; `index.docker.io/v1/` → `index.docker.io`. */
export function normalizeAuthKey(key: string): string {
  return key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
}

function isDockerHub(registry: string): boolean {
  return DOCKER_HUB_HOSTS.includes(registry.toLowerCase());
}

/** The key a credential helper is asked for (Docker Hub uses its historical v1 URL). */
export function helperServerUrl(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_KEY : registry;
}

function keyMatches(key: string, registry: string): boolean {
  const host = normalizeAuthKey(key);
  if (isDockerHub(registry)) return DOCKER_HUB_HOSTS.includes(host);
  return host === registry.toLowerCase();
}

/** The `auths` entry for a registry: exact key first, then any key naming the same host. */
export function findAuthEntry(config: DockerConfig, registry: string): { key: string; entry: DockerAuthEntry } | undefined {
  const auths = config.auths ?? {};
  const exact = isDockerHub(registry) ? DOCKER_HUB_KEY : registry;
  if (auths[exact] !== undefined) return { key: exact, entry: auths[exact] };
  for (const [key, entry] of Object.entries(auths)) if (keyMatches(key, registry)) return { key, entry };
  return undefined;
}

export function helperFor(config: DockerConfig, registry: string): { helper: string; field: 'credHelpers' | 'credsStore' } | undefined {
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
    if (keyMatches(key, registry) && helper !== '') return { helper, field: 'credHelpers' };
  }
  if (config.credsStore !== undefined && config.credsStore !== '') return { helper: config.credsStore, field: 'credsStore' };
  return undefined;
}

/** An `auths` entry → credentials (undefined when the entry holds nothing usable, e.g. `{}` under a credsStore). */
export function credentialsFromEntry(entry: DockerAuthEntry): Credentials | undefined {
  const out: Credentials = {};
  if (entry.auth !== undefined && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      out.username = decoded.slice(0, colon);
      out.password = decoded.slice(colon + 1);
    }
  } else if (entry.username !== undefined && entry.username !== '') {
    out.username = entry.username;
    out.password = entry.password ?? '';
  }
  if (entry.identitytoken) out.identityToken = entry.identitytoken;
  if (entry.registrytoken) out.registryToken = entry.registrytoken;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Parses a helper's `get` output (`{"ServerURL","Username","Secret"}`). */
export function credentialsFromHelperOutput(stdout: string): Credentials | undefined {
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    return undefined;
  }
  const user = typeof doc.Username === 'string' ? doc.Username : '';
  const secret = typeof doc.Secret === 'string' ? doc.Secret : '';
  if (secret === '') return undefined;
  if (user === '<token>') return { identityToken: secret };
  return { username: user, password: secret };
}

export interface DockerConfigSourceOptions {
  env?: NodeJS.ProcessEnv | undefined;
  /** Overrides $DOCKER_CONFIG/config.json. */
  configPath?: string | undefined;
}

/** Every secret of a lookup is registered for redaction by value before anyone can echo it. */
function remembered(found: CredentialLookup): CredentialLookup {
  const c = found.credentials;
  if (c !== undefined) {
    registerCredentials(c.username, c.password);
    registerSecret(c.identityToken);
    registerSecret(c.registryToken);
  }
  return found;
}

/** Credentials from Docker's config file and helpers. The file is re-read at most once per source. */
export function dockerConfigCredentials(opts: DockerConfigSourceOptions = {}): CredentialSource {
  const file = opts.configPath ?? dockerConfigPath(opts.env);
  let loaded: Promise<DockerConfig | undefined> | undefined;
  const load = (): Promise<DockerConfig | undefined> => (loaded ??= readConfig(file));
  return {
    async lookup(registry, signal) {
      return remembered(await lookupIn(registry, signal));
    },
  };
  async function lookupIn(registry: string, signal?: AbortSignal): Promise<CredentialLookup> {
    const config = await load();
    if (config === undefined) return { source: `no ${file}` };
    const helper = helperFor(config, registry);
    if (helper !== undefined) {
      const creds = await runHelper(helper.helper, helperServerUrl(registry), `${helper.field} in ${file}`, signal);
      const src = `credential helper docker-credential-${helper.helper} (${helper.field} in ${file})`;
      if (creds !== undefined) return { credentials: creds, source: src };
      if (helper.field === 'credHelpers') return { source: `${src}, which has no entry for ${registry}` };
    }
    const found = findAuthEntry(config, registry);
    const creds = found !== undefined ? credentialsFromEntry(found.entry) : undefined;
    if (found !== undefined && creds !== undefined) return { credentials: creds, source: `auths["${found.key}"] in ${file}` };
    return { source: `no credentials for ${registry} in ${file}${helper !== undefined ? ` or docker-credential-${helper.helper}` : ''}` };
  }
}

/** Fixed credentials (CLI flags, tests); `source` names them in messages. */
export function staticCredentials(map: Record<string, Credentials>, source = 'the given credentials'): CredentialSource {
  return {
    lookup(registry) {
      const creds = map[registry];
      return Promise.resolve(remembered(creds !== undefined ? { credentials: creds, source } : { source: `no credentials for ${registry} in ${source}` }));
    },
  };
}

/** No credentials at all (anonymous only). */
export const anonymous: CredentialSource = { lookup: () => Promise.resolve({ source: 'anonymous access (no credentials configured)' }) };

async function readConfig(file: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new KairosImgError('DOCKER_CONFIG_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not an object');
    return doc as DockerConfig;
  } catch {
    // The file holds secrets: never echo its content.
    throw new KairosImgError('DOCKER_CONFIG_INVALID', `${file} is not valid JSON`, { hint: `fix or move ${file}` });
  }
}

async function runHelper(helper: string, serverUrl: string, where: string, signal?: AbortSignal): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9_.-]+$/.test(helper)) {
    throw new KairosImgError('CREDENTIAL_HELPER_INVALID', `credential helper name "${helper}" (${where}) is not valid`, {});
  }
  const bin = `docker-credential-${helper}`;
  const { execa } = await execaPackage();
  const result = await execa(bin, ['get'], {
    input: serverUrl, reject: false, timeout: 30_000, stripFinalNewline: true, ...(signal ? { cancelSignal: signal } : {}),
  });
  signal?.throwIfAborted();
  if ((result as { code?: string }).code === 'ENOENT') {
    throw new KairosImgError('CREDENTIAL_HELPER_MISSING', `credential helper ${bin} (${where}) is not installed or not on PATH`, {
      hint: `install ${bin}, or remove it from the Docker config`, details: { helper: bin },
    });
  }
  if (result.failed) {
    // Helpers answer "credentials not found in native keychain" with exit 1: that is "no entry".
    if (/not found/i.test(`${result.stdout}\n${result.stderr}`)) return undefined;
    throw new KairosImgError('CREDENTIAL_HELPER_FAILED', `credential helper ${bin} failed (exit ${result.exitCode ?? '?'})`, {
      hint: `run: echo ${serverUrl} | ${bin} get`, details: { helper: bin },
    });
  }
  return credentialsFromHelperOutput(String(result.stdout));
}
