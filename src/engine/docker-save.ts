/**
 * `docker save` of one image through the engine API (`GET /images/{name}/get`): the engine's
 * docker-archive as a stream, for the `docker-daemon:` image source. Thin: the engine writes the
 * archive; this says in our words what went wrong.
 */
import type { Readable } from 'node:stream';
import { interrupted, isAbortError, KairosImgError } from '../errors.js';
import { connectDocker, engineMessage } from './docker.js';

export interface SaveImageOptions {
  name: string;
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
}

export async function saveImage(opts: SaveImageOptions): Promise<Readable> {
  const { docker } = await connectDocker({ env: opts.env, signal: opts.signal });
  try {
    // Inspect first: a missing image is a clear error before any stream starts.
    await docker.getImage(opts.name).inspect();
  } catch (e) {
    if (opts.signal?.aborted === true || isAbortError(e)) throw interrupted();
    if ((e as { statusCode?: unknown }).statusCode === 404) {
      throw new KairosImgError('ENGINE_IMAGE_MISSING', `the Docker engine has no image ${opts.name}`, {
        hint: `list its images with docker images; pull it first: docker pull ${opts.name} (or kairos-img pull ${opts.name} --to docker)`,
      });
    }
    throw new KairosImgError('ENGINE_EXPORT_FAILED', `the Docker engine could not inspect ${opts.name}: ${engineMessage(e)}`, { cause: e });
  }
  let stream: Readable;
  try {
    stream = (await docker.getImage(opts.name).get()) as unknown as Readable;
  } catch (e) {
    if (opts.signal?.aborted === true || isAbortError(e)) throw interrupted();
    throw new KairosImgError('ENGINE_EXPORT_FAILED', `the Docker engine could not save ${opts.name}: ${engineMessage(e)}`, { cause: e });
  }
  if (opts.signal !== undefined) {
    const signal = opts.signal;
    const onAbort = (): void => { stream.destroy(interrupted()); };
    signal.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  return stream;
}
