// Engine-side checks shared by the Docker engine tests.
import type Docker from 'dockerode';

function notFound(e: unknown): boolean {
  return (e as { statusCode?: number }).statusCode === 404;
}

export async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (e) {
    if (notFound(e)) return false;
    throw e;
  }
}

/** Removes an image by name or ID; an image already gone is fine. */
export async function removeImageById(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getImage(id).remove({ force: true });
  } catch (e) {
    if (!notFound(e)) throw e;
  }
}

export async function containerIds(docker: Docker): Promise<string[]> {
  return (await docker.listContainers({ all: true })).map((c) => c.Id).sort();
}
