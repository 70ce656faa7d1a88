/**
 * What the operations that read files out of an image share (verify, releases, diff): the
 * manifest's layers as blobs for `readImageFiles`, and the release files as the policy reads them.
 */
import type { Descriptor } from '../oci/index.js';
import { RELEASE_FILES, type ReleaseFiles } from '../policy/release-files.js';
import type { ImageSource } from '../store/sources/index.js';
import type { FileView, LayerBlob } from '../unpack/read-files.js';

/** The layers of a manifest (bottom first), each opened from the image's source when it is read. */
export function layerBlobs(source: Pick<ImageSource, 'blob'>, layers: readonly Descriptor[]): LayerBlob[] {
  return layers.map((d) => ({
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
    open: (signal?: AbortSignal) => source.blob(d, { signal }),
  }));
}

/** The release files as the layers read so far hold them. */
export function releaseFilesOf(view: Pick<FileView, 'lookup'>): ReleaseFiles {
  const out: Record<string, ReleaseFiles[string]> = {};
  for (const path of RELEASE_FILES) {
    const l = view.lookup(path);
    out[path] = l.state === 'present' ? { state: 'present', text: l.content.toString('utf8'), path: l.path } : l;
  }
  return out;
}
