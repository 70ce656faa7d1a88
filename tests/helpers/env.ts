// Typed access to the services exported by scripts/test-env.sh. A missing variable is an error,
// never a skip: an integration test that silently skips when its registry is absent proves nothing.

export interface TestEnv {
  /** Anonymous registry, `127.0.0.1:5000`: pull+push, delete enabled, plain HTTP. */
  registry: string;
  /** Filesystem storage root of `registry` (`docker/registry/v2/blobs/sha256/<2>/<hex>/data`). */
  registryStorage: string;
  /** The registry in proxy mode (a pull-through cache) in front of `registry`; read-only. */
  registryProxy: string;
  /** Its storage root: what it has cached so far. */
  registryProxyStorage: string;
  /** Registry with htpasswd Basic auth. */
  registryBasic: string;
  basicUser: string;
  basicPass: string;
  /** Registry with `auth: token`, realm `http://<tokenServer>/token`. */
  registryToken: string;
  tokenServer: string;
  tokenUser: string;
  tokenPass: string;
  /** Token lifetime in seconds. */
  tokenTtl: number;
  /** `unix:///…/docker.sock` */
  dockerHost: string;
  /** Path of the Docker socket (from dockerHost). */
  dockerSocket: string;
  envDir: string;
}

const REQUIRED = [
  'KIMG_TEST_ENV_DIR',
  'KIMG_REGISTRY',
  'KIMG_REGISTRY_STORAGE',
  'KIMG_REGISTRY_PROXY',
  'KIMG_REGISTRY_PROXY_STORAGE',
  'KIMG_REGISTRY_BASIC',
  'KIMG_BASIC_USER',
  'KIMG_BASIC_PASS',
  'KIMG_REGISTRY_TOKEN',
  'KIMG_TOKEN_SERVER',
  'KIMG_TOKEN_USER',
  'KIMG_TOKEN_PASS',
  'DOCKER_HOST',
] as const;

type RequiredName = (typeof REQUIRED)[number];

export function testEnv(env: NodeJS.ProcessEnv = process.env): TestEnv {
  const missing = REQUIRED.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(
      `integration test environment missing: ${missing.join(', ')}. ` +
        'Run the tests with `npm test`, or first `eval "$(bash scripts/test-env.sh start)"`.',
    );
  }
  const get = (name: RequiredName): string => env[name] as string;
  const dockerHost = get('DOCKER_HOST');
  if (!dockerHost.startsWith('unix://')) {
    throw new Error(`DOCKER_HOST must be a unix socket from scripts/test-env.sh, got ${dockerHost}`);
  }
  const ttl = Number.parseInt(env.KIMG_TOKEN_TTL ?? '300', 10);
  return {
    registry: get('KIMG_REGISTRY'),
    registryStorage: get('KIMG_REGISTRY_STORAGE'),
    registryProxy: get('KIMG_REGISTRY_PROXY'),
    registryProxyStorage: get('KIMG_REGISTRY_PROXY_STORAGE'),
    registryBasic: get('KIMG_REGISTRY_BASIC'),
    basicUser: get('KIMG_BASIC_USER'),
    basicPass: get('KIMG_BASIC_PASS'),
    registryToken: get('KIMG_REGISTRY_TOKEN'),
    tokenServer: get('KIMG_TOKEN_SERVER'),
    tokenUser: get('KIMG_TOKEN_USER'),
    tokenPass: get('KIMG_TOKEN_PASS'),
    tokenTtl: Number.isFinite(ttl) ? ttl : 300,
    dockerHost,
    dockerSocket: dockerHost.slice('unix://'.length),
    envDir: get('KIMG_TEST_ENV_DIR'),
  };
}

/** `Basic …` header value for a user and password. */
export function basicAuth(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}
