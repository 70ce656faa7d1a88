/**
 * `diff`: what changes between two images — release keys, the distribution's os-release, kernel,
 * Kubernetes version, installed packages — reading only the top layers that decide those files
 * (streamed through the one tar walk, src/unpack/read-files.ts), never unpacking an image. The
 * comparisons are the pure functions of src/policy/image-diff.ts.
 */
import {
  ALPINE_RELEASE,
  KAIROS_RELEASE,
  OS_RELEASE,
  PACKAGE_DATABASES,
  RELEASE_FILES,
  USR_OS_RELEASE,
  diffKeys,
  diffPackages,
  k8sOf,
  kernelVersions,
  osKeysOf,
  packageList,
  parseTag,
  releaseFilesDecided,
  releaseKeysOf,
  type KeyChange,
  type PackageChanges,
  type PackageList,
} from '../policy/index.js';
import { formatPlatform, hostArch as defaultHostArch } from '../oci/index.js';
import { readImageFiles, type FileView } from '../unpack/read-files.js';
import { normalizeK8s, isK8sDistro } from '../version/index.js';
import { defaultCacheDir } from '../store/index.js';
import { lazyClient, withImage, type ImageSpec, type OpenedImage, type OperationOptions } from './common.js';
import { emitter, type DiffEvent } from './events.js';
import { layerBlobs, releaseFilesOf } from './image-files.js';

export interface DiffOptions extends OperationOptions<DiffEvent> {
  /** Where a compressed archive or the engine's save stream is spooled (default: the cache directory). */
  cacheDir?: string | undefined;
  a: ImageSpec;
  b: ImageSpec;
}

export interface ImageFacts {
  reference: string;
  digest: string;
  platform: string;
  releaseFile?: string | undefined;
  release: Record<string, string>;
  os: Record<string, string>;
  kernel: string[];
  k8s?: { distro: string; version: string; from: string } | undefined;
  packages?: PackageList | undefined;
  read: { layersRead: number; layersTotal: number; bytesRead: number; bytesTotal: number };
}

export interface DiffReport {
  a: ImageFacts;
  b: ImageFacts;
  changes: {
    release: KeyChange[];
    os: KeyChange[];
    kernel?: { from: string[]; to: string[] } | undefined;
    k8s?: { from?: string | undefined; to?: string | undefined } | undefined;
    packages?: (PackageChanges & { format: string }) | { format: string; note: string } | undefined;
  };
}

const MODULE_DIRS = ['/lib/modules', '/usr/lib/modules'];
/** Listed, not read: its `vmlinuz` link (or `vmlinuz-<version>` files) name the kernel without following the link into a big file. */
const BOOT = '/boot';
/** Package databases are read whole (a few MiB on a real image); anything bigger is not one. */
const MAX_DATABASE = 64 * 1024 * 1024;

/** Decided once the release files, the package database and the kernel are: lower layers are left unread. */
function decided(view: FileView): boolean {
  if (!releaseFilesDecided(releaseFilesOf(view))) return false;
  for (const db of PACKAGE_DATABASES) {
    const l = view.lookup(db.path);
    if (l.state === 'present') break;
    if (l.state === 'unknown') return false;
  }
  // The kernel: the layer that holds the modules directory decides it (its /boot link comes along).
  return MODULE_DIRS.some((d) => view.list(d).entries.length > 0) || MODULE_DIRS.every((d) => view.list(d).complete);
}

/** What /boot says the kernel is: the target of its `vmlinuz` link, else a `vmlinuz-<version>` file. */
function bootKernel(entries: ReturnType<FileView['list']>['entries']): string | undefined {
  const link = entries.find((e) => e.name === 'vmlinuz' && e.linkname !== undefined);
  if (link?.linkname !== undefined) return link.linkname;
  return entries.find((e) => /^vmlinuz-/.test(e.name))?.name;
}

function text(view: FileView, path: string): string | undefined {
  const l = view.lookup(path);
  return l.state === 'present' ? l.content.toString('utf8') : undefined;
}

function k8sOfImage(release: Record<string, string>, tag: string | undefined): ImageFacts['k8s'] {
  const prefix = release['KAIROS_SOFTWARE_VERSION_PREFIX'] ?? 'k3s';
  const sv = release['KAIROS_SOFTWARE_VERSION'];
  if (sv !== undefined && isK8sDistro(prefix)) {
    const v = normalizeK8s(sv, prefix);
    if (v !== undefined) return { distro: prefix, version: v, from: 'KAIROS_SOFTWARE_VERSION' };
  }
  for (const key of ['KAIROS_VERSION', 'VERSION']) {
    const value = release[key];
    if (value === undefined) continue;
    const t = parseTag(value);
    const k = t.kind === 'noise' ? undefined : k8sOf(t);
    if (k !== undefined) return { distro: k.distro, version: k.version, from: key };
  }
  if (tag !== undefined) {
    const t = parseTag(tag);
    const k = t.kind === 'noise' ? undefined : k8sOf(t);
    if (k !== undefined) return { distro: k.distro, version: k.version, from: 'the tag' };
  }
  return undefined;
}

async function factsOf(opts: DiffOptions, image: ImageSpec, which: 'a' | 'b', emit: (e: DiffEvent) => void, client: ReturnType<typeof lazyClient>): Promise<ImageFacts> {
  const hostArch = opts.hostArch ?? defaultHostArch();
  return withImage({
    image, arch: opts.arch, registry: opts.registry, hostArch, tags: client.tags(), client: client.get, env: opts.env, signal: opts.signal,
    spoolDir: opts.cacheDir ?? defaultCacheDir(opts.env ?? process.env), emit: (e) => emit({ ...e, image: which }),
  }, (target) => factsFrom(opts, target, which, emit));
}

async function factsFrom(opts: DiffOptions, target: OpenedImage, which: 'a' | 'b', emit: (e: DiffEvent) => void): Promise<ImageFacts> {
  const ref = target.reference;
  const m = await target.source.manifest({ platform: target.platform, signal: opts.signal });
  const files = await readImageFiles({
    layers: layerBlobs(target.source, m.manifest.layers),
    paths: [...RELEASE_FILES, ...PACKAGE_DATABASES.map((d) => d.path)],
    dirs: [...MODULE_DIRS, BOOT],
    decided,
    maxFileSize: MAX_DATABASE,
    signal: opts.signal,
    onLayer: (layer) => emit({ type: 'diff-layer', image: which, layer, layers: m.manifest.layers.length }),
  });
  const read = { layersRead: files.layersRead, layersTotal: files.layersTotal, bytesRead: files.bytesRead, bytesTotal: files.bytesTotal };
  emit({ type: 'diff-read', image: which, reference: target.name, ...read });
  const rk = releaseKeysOf({ kairosRelease: text(files, KAIROS_RELEASE), osRelease: text(files, OS_RELEASE) });
  const usr = text(files, USR_OS_RELEASE);
  const os = osKeysOf(usr ?? text(files, OS_RELEASE));
  const alpine = text(files, ALPINE_RELEASE);
  if (alpine !== undefined && os['VERSION_ID'] === undefined) os['VERSION_ID'] = alpine.trim();
  const db = PACKAGE_DATABASES.find((d) => files.lookup(d.path).state === 'present');
  const modules = MODULE_DIRS.flatMap((d) => files.list(d).entries.filter((e) => e.kind === 'dir').map((e) => e.name));
  return {
    reference: target.name,
    digest: m.descriptor.digest,
    platform: formatPlatform(m.descriptor.platform ?? target.platform),
    releaseFile: rk?.file,
    release: rk?.keys ?? {},
    os,
    kernel: kernelVersions(modules, bootKernel(files.list(BOOT).entries)),
    k8s: k8sOfImage(rk?.keys ?? {}, ref.tag),
    packages: db === undefined ? undefined : packageList(db.format, db.path, text(files, db.path)),
    read,
  };
}

/** Compares two images by the files that say what they are. */
export async function diffImages(opts: DiffOptions): Promise<DiffReport> {
  const emit = emitter(opts.onEvent);
  const client = lazyClient(opts, emit);
  const a = await factsOf(opts, opts.a, 'a', emit, client);
  const b = await factsOf(opts, opts.b, 'b', emit, client);
  const sameKernel = a.kernel.join(' ') === b.kernel.join(' ');
  let packages: DiffReport['changes']['packages'];
  if (a.packages !== undefined || b.packages !== undefined) {
    const format = b.packages?.format ?? a.packages?.format ?? '';
    const note = [a.packages, b.packages].find((p) => p?.note !== undefined)?.note;
    packages = a.packages?.packages !== undefined && b.packages?.packages !== undefined && a.packages.format === b.packages.format
      ? { format, ...diffPackages(a.packages.packages, b.packages.packages) }
      : { format, note: note ?? `the images keep their packages in different databases (${a.packages?.format ?? 'none'} and ${b.packages?.format ?? 'none'})` };
  }
  const report: DiffReport = {
    a,
    b,
    changes: {
      release: diffKeys(a.release, b.release),
      os: diffKeys(a.os, b.os),
      ...(sameKernel ? {} : { kernel: { from: a.kernel, to: b.kernel } }),
      ...(a.k8s?.version === b.k8s?.version ? {} : { k8s: { from: a.k8s === undefined ? undefined : `${a.k8s.distro} ${a.k8s.version}`, to: b.k8s === undefined ? undefined : `${b.k8s.distro} ${b.k8s.version}` } }),
      ...(packages === undefined ? {} : { packages }),
    },
  };
  emit({ type: 'diffed', changes: report.changes.release.length + report.changes.os.length + (sameKernel ? 0 : 1) });
  return report;
}
