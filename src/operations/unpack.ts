/**
 * `unpack`: an image's root filesystem into a directory, safely and atomically: name the image →
 * its manifest (from the cache when the tag or digest is there) → layers applied in order while
 * later ones download → the manifest recorded in the cache for the next run.
 */
import { isKairosImgError } from '../errors.js';
import { formatPlatform, parseManifestDocument, type Descriptor, type ImageManifest, type Platform } from '../oci/index.js';
import { formatReference, type Reference } from '../reference/reference.js';
import { openStore, type Store } from '../store/index.js';
import { checkTarget, unpackImage, type UnpackReport } from '../unpack/index.js';
import { lazyClient, signatureRequirementFor, withImage, type ImageSpec, type OpenedImage, type OperationOptions } from './common.js';
import { emitter, type UnpackEvent } from './events.js';
import { layerInputs } from './layer-source.js';
import { resolutionFacts, type ResolutionFacts } from './resolve.js';
import type { SignatureReport, SignatureRequirement } from './signature.js';
import { signatureGate } from './signature-gate.js';

export interface UnpackOptions extends OperationOptions<UnpackEvent> {
  image: ImageSpec;
  dir: string;
  /** The content cache (an OCI layout). */
  cacheDir: string;
  /** Replace a non-empty `dir` (atomically). */
  force?: boolean | undefined;
  /** Ask the registry for the tag even when the cache has it. */
  refresh?: boolean | undefined;
  /** Verify the image's signature before anything is downloaded or written (exit 3 when none satisfies it). */
  signature?: SignatureRequirement | undefined;
}

export interface UnpackSummary extends UnpackReport {
  reference: string;
  /** The manifest digest (native), the registry digest the engine reported (docker), or null (luet). */
  digest: string | null;
  /** Which engine wrote the tree: kairos-img itself, the Docker engine's container export, or luet. */
  via: 'native' | 'docker' | 'luet';
  /** The engine and command, for the other paths. */
  engine?: string | undefined;
  platform: string;
  /** True when no registry request was made. */
  fromCache: boolean;
  resolution?: ResolutionFacts | undefined;
  /** The signature check, when one was required. */
  signature?: SignatureReport | undefined;
}

interface FoundManifest {
  descriptor: Descriptor;
  manifest: ImageManifest;
  raw: Buffer;
}

async function cachedManifest(store: Store, ref: Reference, platform: Platform): Promise<FoundManifest | undefined> {
  const name = formatReference(ref);
  const desc = await store.resolveTag(name, platform);
  if (desc === undefined || !(await store.has(desc.digest))) return undefined;
  const raw = await store.readBlob(desc.digest);
  const doc = parseManifestDocument(raw, desc.mediaType, name);
  if (doc.kind !== 'manifest') return undefined;
  // Layers missing from the cache are fetched by the unpack step; the manifest is still good.
  return { descriptor: desc, manifest: doc.manifest, raw };
}

/** Unpacks an image's root filesystem into `dir`; returns what was written. */
export async function unpack(opts: UnpackOptions): Promise<UnpackSummary> {
  const emit = emitter(opts.onEvent);
  // A target that would be refused is refused before anything is downloaded.
  await checkTarget({ dir: opts.dir, force: opts.force });
  const store = await openStore({ root: opts.cacheDir });
  // The registry is asked only when the catalog cannot name the image alone (no version, no k3s).
  const client = lazyClient(opts, emit);
  return withImage({ ...opts, tags: client.tags(), client: client.get, spoolDir: store.root, emit }, (img) => unpackFrom(opts, img, store, client, emit));
}

async function unpackFrom(opts: UnpackOptions, img: OpenedImage, store: Store, client: ReturnType<typeof lazyClient>, emit: (e: UnpackEvent) => void): Promise<UnpackSummary> {
  const { signal } = opts;
  const ref = img.reference;
  // Only registry images are kept in the cache: a local source is already on this disk.
  const fromRegistry = img.source.kind === 'registry';
  const requirement = signatureRequirementFor(img, opts.signature);

  // A signature is checked against what the registry serves now, so a required one skips the cached manifest.
  let found = opts.refresh === true || !fromRegistry || requirement !== undefined ? undefined : await cachedManifest(store, ref, img.platform);
  const manifestFromCache = found !== undefined;
  let signature: SignatureReport | undefined;
  if (found === undefined) {
    const m = await img.source.manifest({ platform: img.platform, signal });
    found = { descriptor: m.descriptor, manifest: m.manifest, raw: m.raw };
    signature = await signatureGate({ requirement, client: client.get(), reference: ref, manifest: m, signal, emit });
  }
  const layers = found.manifest.layers;
  const total = layers.reduce((a, l) => a + l.size, 0);
  const platform = found.descriptor.platform ?? img.platform;
  emit({
    type: 'manifest', digest: found.descriptor.digest, platform: formatPlatform(platform), layers: layers.length, size: total,
    fromCache: manifestFromCache,
  });

  emit({ type: 'unpack-start', layers: layers.length, size: total });
  const started = Date.now();
  const done = new Map<number, number>();
  // A cached layer found corrupt while it streams is removed and the unpack (staged, so nothing
  // of it is kept) runs once more, fetching that layer from the registry.
  let report: UnpackReport | undefined;
  for (let attempt = 0; report === undefined; attempt++) {
    const sources = layerInputs({ source: img.source, cache: fromRegistry, store, layers });
    done.clear();
    try {
      report = await unpackImage({
        dir: opts.dir,
        layers: sources.layers,
        force: opts.force === true,
        signal,
        onProgress: (e) => {
          done.set(e.layer, e.bytes);
          emit({ type: 'unpack-progress', layer: e.layer, layers: layers.length, bytes: [...done.values()].reduce((a, b) => a + b, 0), total, entries: e.entries });
        },
      });
    } catch (e) {
      if (attempt > 0 || !(isKairosImgError(e) && e.code === 'CACHE_CORRUPT')) throw e;
      emit({ type: 'warning', message: `${e.message}; fetching it again from the registry` });
    } finally {
      // Cache writes running beside the unpack end (and clean up) before the operation does.
      await sources.settle();
    }
  }
  emit({ type: 'unpacked', layers: layers.length, entries: report.entries, bytes: report.bytes, seconds: (Date.now() - started) / 1000 });

  if (fromRegistry) {
    if (!(await store.has(found.manifest.config.digest)) && client.made()) {
      await store.writeBlob(found.manifest.config, img.source.blob(found.manifest.config, { signal }), { signal, preverified: true });
    }
    await store.putManifest(formatReference(ref), found.descriptor, found.raw, { signal });
  }
  emit({ type: 'recorded', digest: found.descriptor.digest });

  return {
    ...report,
    reference: img.name,
    digest: found.descriptor.digest,
    via: 'native',
    platform: formatPlatform(platform),
    fromCache: fromRegistry && !client.made(),
    resolution: img.resolution === undefined ? undefined : resolutionFacts(img.resolution),
    ...(signature === undefined ? {} : { signature }),
  };
}
