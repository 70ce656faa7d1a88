/**
 * `extract-img` as a task list: resolve the artifact reference (catalog + registry discovery),
 * fetch its manifest (a missing one becomes the error listing the artifact tags that exist), then
 * extract natively or through luet — either way into the same verifying sink.
 */
import type { ListrTask } from 'listr2';
import { formatReference, type Reference } from '../reference/reference.js';
import type { ManifestResult, RegistryClient } from '../registry/index.js';
import { resolve, type Resolution } from '../operations/resolve.js';
import { createClient, tagSource } from '../operations/client.js';
import { runTasks, throttle, transferText, type ProgressMode } from '../cli/progress/runner.js';
import type { LuetEngine } from '../engine/luet.js';
import type { ArtifactFile } from './artifact-sink.js';
import { artifactNotFound, extractArtifact, isMissingManifest } from './extract.js';
import { extractViaLuet } from './extract-tree.js';

export type ArtifactSpec =
  | { reference: Reference }
  | { flavor: string; variant: string; version?: string | undefined; k3s?: string | undefined; model?: string | undefined };

export interface ExtractImgOptions {
  artifact: ArtifactSpec;
  outDir: string;
  decompress?: boolean | undefined;
  via?: 'native' | 'luet' | undefined;
  /** Force the luet engine ('luet' binary or 'docker'); default: luet when on PATH, else Docker. */
  luetEngine?: LuetEngine | undefined;
  arch?: string | undefined;
  registry?: string | undefined;
  hostArch?: string | undefined;
  cacheDir?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
  progress?: ProgressMode | undefined;
  warn?: ((line: string) => void) | undefined;
  log?: ((line: string) => void) | undefined;
}

export interface ExtractImgContext {
  client: RegistryClient;
  reference?: Reference;
  resolution?: Resolution;
  manifest?: ManifestResult;
  engine?: 'native' | LuetEngine;
  command?: string[];
  files?: ArtifactFile[];
  skipped?: number;
  fromCache?: boolean;
}

/** Disk-image artifacts are arm images: arm64 unless told otherwise (design.md §4). */
const ARTIFACT_ARCH = 'arm64';

export function extractImgTasks(opts: ExtractImgOptions): Array<ListrTask<ExtractImgContext>> {
  const plain = opts.progress !== 'tty';
  return [
    {
      title: 'Resolve the artifact',
      task: async (ctx, task) => {
        if ('reference' in opts.artifact) {
          ctx.reference = opts.artifact.reference;
        } else {
          const r = await resolve({
            ...opts.artifact,
            kind: 'artifact',
            arch: opts.arch,
            registry: opts.registry,
            hostArch: opts.hostArch,
            tags: tagSource(ctx.client),
            signal: opts.signal,
          });
          ctx.resolution = r;
          ctx.reference = r.reference;
        }
        task.title = `Resolved ${formatReference(ctx.reference)}`;
      },
    },
    {
      title: 'Fetch the manifest',
      task: async (ctx, task) => {
        const ref = ctx.reference as Reference;
        const architecture = ctx.resolution?.arch ?? opts.arch ?? ARTIFACT_ARCH;
        try {
          ctx.manifest = await ctx.client.getManifest(ref, { platform: { os: 'linux', architecture }, signal: opts.signal });
        } catch (e) {
          if (isMissingManifest(e)) throw await artifactNotFound({ client: ctx.client, reference: ref, cause: e, signal: opts.signal });
          throw e;
        }
        const size = ctx.manifest.manifest.layers.reduce((a, l) => a + l.size, 0);
        task.title = `Manifest ${ctx.manifest.descriptor.digest.slice(0, 19)}… (${ctx.manifest.manifest.layers.length} layer${ctx.manifest.manifest.layers.length === 1 ? '' : 's'}, ${(size / 1048576).toFixed(1)} MiB)`;
      },
    },
    {
      title: opts.via === 'luet' ? 'Unpack with luet and verify' : 'Extract and verify',
      task: async (ctx, task) => {
        const ref = ctx.reference as Reference;
        const manifest = ctx.manifest as ManifestResult;
        const started = Date.now();
        if (opts.via === 'luet') {
          // Pinned by digest: luet fetches exactly what was resolved and checked here.
          const pinned = formatReference({ registry: ref.registry, repository: ref.repository, digest: manifest.descriptor.digest });
          const r = await extractViaLuet({
            image: pinned, label: formatReference(ref), outDir: opts.outDir, decompress: opts.decompress,
            platform: manifest.descriptor.platform === undefined ? undefined : `linux/${manifest.descriptor.platform.architecture}`,
            env: opts.env, signal: opts.signal, engine: opts.luetEngine, warn: opts.warn, log: opts.log,
          });
          Object.assign(ctx, { engine: r.engine, command: r.command, files: r.files, skipped: r.skipped });
        } else {
          const show = throttle(plain ? 5000 : 150, (bytes: number, total: number) => { task.output = transferText(bytes, total, started); });
          const r = await extractArtifact({
            client: ctx.client, reference: ref, manifest, outDir: opts.outDir, decompress: opts.decompress,
            cacheDir: opts.cacheDir, signal: opts.signal, onProgress: show, warn: opts.warn,
          });
          show.flush();
          Object.assign(ctx, { engine: 'native', files: r.files, skipped: r.skipped, fromCache: r.layers.every((l) => l.fromCache) });
        }
        const files = ctx.files ?? [];
        const verified = files.filter((f) => f.verified).length;
        const images = files.filter((f) => f.role === 'image').length;
        task.title = `Wrote ${files.length} files (${verified}/${images} disk images verified) in ${((Date.now() - started) / 1000).toFixed(1)} s`;
      },
    },
  ];
}

export interface ExtractImgSummary {
  reference: string;
  digest: string;
  engine: 'native' | LuetEngine;
  /** The luet command that ran (luet path only). */
  command?: string[] | undefined;
  outDir: string;
  files: Array<Pick<ArtifactFile, 'path' | 'size' | 'sha256' | 'verified' | 'checksum' | 'role'> & Partial<Pick<ArtifactFile, 'compression' | 'rawSize' | 'rawSha256' | 'checksumFile' | 'decompressed'>>>;
  /** Entries that were neither artifact files nor directories. */
  skipped: number;
  /** How to write the disk image to a card (the device is left to the user). */
  next?: string | undefined;
  resolution?: Resolution | undefined;
}

const DD = 'of=/dev/sdX bs=4M conv=fsync status=progress';

/** The command that writes `image` to a card, pure: raw images go to dd, compressed ones through their decoder. */
export function writeCommand(image: Pick<ArtifactFile, 'path' | 'compression' | 'decompressed'>): string {
  const q = (p: string): string => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);
  switch (image.decompressed === true ? 'none' : (image.compression ?? 'none')) {
    case 'xz': return `xz -dc ${q(image.path)} | sudo dd ${DD}`;
    case 'gzip': return `gzip -dc ${q(image.path)} | sudo dd ${DD}`;
    case 'zstd': return `zstd -dc ${q(image.path)} | sudo dd ${DD}`;
    default: return `sudo dd if=${q(image.path)} ${DD}`;
  }
}

export function summarizeExtractImg(ctx: ExtractImgContext, outDir: string): ExtractImgSummary {
  if (ctx.reference === undefined || ctx.manifest === undefined || ctx.files === undefined) throw new Error('extract-img did not complete');
  const image = ctx.files.find((f) => f.role === 'image');
  return {
    reference: formatReference(ctx.reference),
    digest: ctx.manifest.descriptor.digest,
    engine: ctx.engine ?? 'native',
    ...(ctx.command === undefined ? {} : { command: ctx.command }),
    outDir,
    files: ctx.files.map((f) => ({
      path: f.path, size: f.size, sha256: f.sha256, verified: f.verified, checksum: f.checksum, role: f.role,
      ...(f.role === 'image' ? { compression: f.compression, rawSize: f.rawSize, rawSha256: f.rawSha256, decompressed: f.decompressed } : {}),
      ...(f.checksumFile === undefined ? {} : { checksumFile: f.checksumFile }),
    })),
    skipped: ctx.skipped ?? 0,
    next: image === undefined ? undefined : writeCommand(image),
    resolution: ctx.resolution,
  };
}

/** Library entry point: extract (and verify) a disk-image artifact into `outDir`. */
export async function extractImg(opts: ExtractImgOptions & { client?: RegistryClient | undefined; plainHttp?: boolean | undefined; stderr?: NodeJS.WriteStream | undefined }): Promise<ExtractImgSummary> {
  const client = opts.client ?? createClient({ plainHttp: opts.plainHttp, env: opts.env, log: opts.log });
  const ctx = await runTasks<ExtractImgContext>(extractImgTasks(opts), { client }, { mode: opts.progress ?? 'silent', stderr: opts.stderr, signal: opts.signal });
  return summarizeExtractImg(ctx, opts.outDir);
}
