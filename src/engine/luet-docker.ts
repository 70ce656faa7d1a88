/**
 * `docker run --rm -v DIR:/image quay.io/luet/base util unpack IMAGE /image` through dockerode —
 * the command in Kairos' Raspberry Pi docs — for hosts without a luet binary. The container joins
 * the host network when the image lives on a loopback registry (tests, local mirrors), because
 * "127.0.0.1" inside a bridged container is the container itself.
 */
import type Docker from 'dockerode';
import { interrupted, KairosImgError } from '../errors.js';
import { parseReference } from '../reference/reference.js';
import { connectDocker, engineMessage } from './docker.js';

export const LUET_IMAGE = 'quay.io/luet/base:latest';

function isLoopbackRegistry(image: string): boolean {
  try {
    const host = parseReference(image).registry.replace(/:\d+$/, '');
    return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
  } catch {
    return false;
  }
}

/** Docker's multiplexed log frames (8-byte header: stream, 0, 0, 0, big-endian size) → text, pure. */
export function demuxLogs(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  // A TTY container's logs are not framed.
  return i === 0 ? buf.toString('utf8') : Buffer.concat(parts).toString('utf8');
}

/** The container spec, pure. */
export function dockerLuetCreateOptions(opts: { image: string; dir: string; platform?: string | undefined; luetImage?: string | undefined }): Docker.ContainerCreateOptions {
  return {
    Image: opts.luetImage ?? LUET_IMAGE,
    Cmd: ['util', 'unpack', opts.image, '/image'],
    HostConfig: {
      Binds: [`${opts.dir}:/image`],
      AutoRemove: false, // removed by us after reading the logs (AutoRemove races the log read)
      ...(isLoopbackRegistry(opts.image) ? { NetworkMode: 'host' } : {}),
    },
    ...(opts.platform === undefined ? {} : { platform: opts.platform }),
  } as Docker.ContainerCreateOptions;
}

/** The equivalent `docker run` argv, for reports and messages. */
export function dockerLuetCommand(opts: { image: string; dir: string; platform?: string | undefined; luetImage?: string | undefined }): string[] {
  return ['docker', 'run', '--rm', ...(isLoopbackRegistry(opts.image) ? ['--network', 'host'] : []), '-v', `${opts.dir}:/image`, opts.luetImage ?? LUET_IMAGE, 'util', 'unpack', opts.image, '/image'];
}

async function ensureImage(docker: Docker, name: string, signal?: AbortSignal): Promise<void> {
  try {
    await docker.getImage(name).inspect();
    return;
  } catch {
    // not present: pull it
  }
  const stream = (await docker.pull(name, { abortSignal: signal } as object)) as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: unknown, out: Array<{ error?: string }>) => {
      const failed = out?.find((m) => m.error !== undefined);
      if (err || failed) reject(new KairosImgError('LUET_IMAGE_PULL_FAILED', `the engine could not pull ${name}: ${failed?.error ?? engineMessage(err)}`));
      else resolve();
    });
  });
}

export async function runLuetInDocker(opts: { image: string; dir: string; platform?: string | undefined; env: NodeJS.ProcessEnv; signal?: AbortSignal | undefined; log?: ((line: string) => void) | undefined; luetImage?: string | undefined }): Promise<void> {
  const { docker } = await connectDocker({ env: opts.env, signal: opts.signal });
  const spec = dockerLuetCreateOptions(opts);
  const luetImage = spec.Image as string;
  await ensureImage(docker, luetImage, opts.signal);
  opts.log?.(`running ${dockerLuetCommand(opts).join(' ')}`);
  const container = await docker.createContainer(spec);
  const onAbort = (): void => { void container.kill().catch(() => undefined); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await container.start();
    const result = (await container.wait()) as { StatusCode?: number };
    if (opts.signal?.aborted === true) throw interrupted();
    if (result.StatusCode !== 0) {
      const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
      const tail = demuxLogs(Buffer.from(logs)).trim().split('\n').slice(-5).join('\n');
      throw new KairosImgError('LUET_FAILED', `\`${dockerLuetCommand(opts).join(' ')}\` exited with ${String(result.StatusCode)}${tail === '' ? '' : `: ${tail}`}`, {
        hint: 'luet reads no Docker credentials; try without --via luet',
      });
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await container.remove({ force: true }).catch(() => undefined);
  }
}
