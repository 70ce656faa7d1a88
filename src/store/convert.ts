/**
 * Docker schema 2 → OCI image manifest, pure. `umoci unpack` (and the OCI layout tooling in
 * general) accepts only OCI media types, so an exported layout carries the OCI form of a Docker
 * image, exactly as `skopeo copy docker://… oci:…` does: same config and layer blobs, media
 * types renamed, hence a new manifest digest.
 */
import { KairosImgError } from '../errors.js';
import { MediaType, type Descriptor, type ImageManifest } from '../oci/index.js';

const LAYER_MAP: Record<string, string> = {
  [MediaType.dockerLayerGzip]: MediaType.ociLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MediaType.ociLayer,
  'application/vnd.docker.image.rootfs.diff.tar.zstd': MediaType.ociLayerZstd,
  [MediaType.dockerForeignLayerGzip]: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
};

export function toOciManifest(manifest: ImageManifest): ImageManifest {
  const layer = (d: Descriptor): Descriptor => {
    if (d.mediaType.startsWith('application/vnd.oci.')) return d;
    const mt = LAYER_MAP[d.mediaType];
    if (mt === undefined) {
      throw new KairosImgError('UNSUPPORTED_MEDIA_TYPE', `cannot convert layer media type ${d.mediaType} to OCI`, { details: { digest: d.digest } });
    }
    return { ...d, mediaType: mt };
  };
  const config: Descriptor = { ...manifest.config, mediaType: MediaType.ociConfig };
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config,
    layers: manifest.layers.map(layer),
    ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
  };
}
