// The bench image: built once from real system files (about 2 GB unpacked, ~60k entries, three
// gzip layers made by GNU tar) into an OCI layout under $BENCH_DIR (default /tmp/kairos-img-bench),
// and pushed to the test registry. Rebuilt only when the layout is missing; the push is skipped
// when the registry already serves the same manifest digest.
//
//   node scripts/bench/build-image.mjs --registry HOST:PORT   → prints the image facts as JSON
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const BENCH_DIR = process.env.BENCH_DIR ?? '/tmp/kairos-img-bench';
export const REPOSITORY = 'bench/rootfs';
export const TAG = 'v1';

const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

/**
 * What goes into each layer, relative to `/`. Chosen with du/find on a Debian 12 builder to land
 * near 2 GB / 60k entries: usr/share ≈ 0.67 GB and 54k entries; usr/bin + gcc + python ≈ 0.73 GB;
 * the multiarch library directory ≈ 0.67 GB. Missing paths are dropped (other machines differ).
 */
function layerSelection() {
  const pythons = ['usr/lib/python3', ...listDir('/usr/lib').filter((n) => /^python3\.\d+$/.test(n)).map((n) => `usr/lib/${n}`)];
  const arch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  return [
    ['usr/share'],
    ['usr/bin', 'usr/lib/gcc', ...pythons],
    [`usr/lib/${arch}`],
  ].map((paths) => paths.filter((p) => existsSync(`/${p}`)));
}

function listDir(dir) {
  try {
    return execFileSync('ls', ['-1', dir], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function sha256File(file) {
  const out = execFileSync('sha256sum', [file], { encoding: 'utf8' });
  return `sha256:${out.split(' ')[0]}`;
}

function writeBlob(layout, bytes) {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  writeFileSync(path.join(layout, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

/** One layer: `tar | tee >(sha256sum) | gzip -6`, so the diff ID is hashed on the way. */
function buildLayer(layout, paths, index) {
  const tmpGz = path.join(layout, `layer-${index}.tar.gz`);
  const tmpDiff = path.join(layout, `layer-${index}.diffid`);
  const script = [
    'set -o pipefail',
    // Exit status 1 is "some files changed while being read": harmless for a bench image.
    `{ tar -C / --numeric-owner -cf - "$@" || [ $? -eq 1 ]; } | tee >(sha256sum | cut -d' ' -f1 > '${tmpDiff}') | gzip -6 > '${tmpGz}'`,
    'wait',
  ].join('\n');
  const r = spawnSync('bash', ['-c', script, 'build-layer', ...paths], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`building layer ${index} (${paths.join(' ')}) failed`);
  // The process substitution may finish just after bash: wait for its output.
  for (let i = 0; i < 100 && !(existsSync(tmpDiff) && readFileSync(tmpDiff, 'utf8').trim().length === 64); i++) {
    spawnSync('sleep', ['0.1']);
  }
  const diffId = `sha256:${readFileSync(tmpDiff, 'utf8').trim()}`;
  const digest = sha256File(tmpGz);
  const size = statSync(tmpGz).size;
  renameSync(tmpGz, path.join(layout, 'blobs', 'sha256', digest.slice(7)));
  rmSync(tmpDiff);
  return { mediaType: GZIP, digest, size, diffId, paths };
}

function countEntries(paths) {
  const out = execFileSync('bash', ['-c', 'cd / && find "$@" | wc -l', 'count', ...paths], { encoding: 'utf8' });
  return Number(out.trim());
}

function unpackedBytes(paths) {
  const out = execFileSync('bash', ['-c', 'cd / && du -scb "$@" | tail -1 | cut -f1', 'du', ...paths], { encoding: 'utf8' });
  return Number(out.trim());
}

/** Builds the OCI layout when missing; returns its facts. */
export function ensureLayout() {
  const layout = path.join(BENCH_DIR, 'image');
  const factsFile = path.join(BENCH_DIR, 'image.json');
  if (existsSync(factsFile) && existsSync(path.join(layout, 'index.json'))) {
    return JSON.parse(readFileSync(factsFile, 'utf8'));
  }
  const building = `${layout}.building`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(path.join(building, 'blobs', 'sha256'), { recursive: true });
  const selection = layerSelection();
  process.stderr.write(`bench: building the bench image (${selection.map((s) => s.join(' + ')).join(' | ')}) — once\n`);
  const started = Date.now();
  const layers = selection.map((paths, i) => buildLayer(building, paths, i));
  const config = {
    created: '2024-01-01T00:00:00Z',
    architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((l) => ({ created: '2024-01-01T00:00:00Z', created_by: `tar -C / -cf - ${l.paths.join(' ')} | gzip -6` })),
  };
  const configDesc = { mediaType: 'application/vnd.oci.image.config.v1+json', ...writeBlob(building, Buffer.from(JSON.stringify(config))) };
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: configDesc,
    layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  };
  const manifestDesc = { mediaType: manifest.mediaType, ...writeBlob(building, Buffer.from(JSON.stringify(manifest))) };
  writeFileSync(path.join(building, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(path.join(building, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ ...manifestDesc, annotations: { 'org.opencontainers.image.ref.name': TAG } }],
  }));
  const allPaths = selection.flat();
  const facts = {
    manifestDigest: manifestDesc.digest,
    layers: layers.map(({ digest, size, diffId, paths }) => ({ digest, size, diffId, paths })),
    compressedBytes: layers.reduce((a, l) => a + l.size, 0),
    unpackedBytes: unpackedBytes(allPaths),
    entries: countEntries(allPaths),
    builtIn: `${((Date.now() - started) / 1000).toFixed(0)} s`,
  };
  rmSync(layout, { recursive: true, force: true });
  renameSync(building, layout);
  writeFileSync(factsFile, `${JSON.stringify(facts, null, 2)}\n`);
  return facts;
}

/** Pushes the layout unless the registry already has this manifest under the tag. */
export function ensurePushed(registry, facts) {
  const url = `http://${registry}/v2/${REPOSITORY}/manifests/${TAG}`;
  const head = spawnSync('curl', ['-sfI', '-H', 'Accept: application/vnd.oci.image.manifest.v1+json', url], { encoding: 'utf8' });
  const served = /docker-content-digest:\s*(\S+)/i.exec(head.stdout ?? '')?.[1];
  if (served === facts.manifestDigest) return false;
  process.stderr.write(`bench: pushing the bench image to ${registry}/${REPOSITORY}:${TAG}\n`);
  const r = spawnSync('skopeo', [
    'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false',
    `oci:${path.join(BENCH_DIR, 'image')}:${TAG}`, `docker://${registry}/${REPOSITORY}:${TAG}`,
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('skopeo copy of the bench image to the registry failed');
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--registry');
  const registry = i > 0 ? process.argv[i + 1] : process.env.KIMG_REGISTRY;
  const facts = ensureLayout();
  if (registry) ensurePushed(registry, facts);
  process.stdout.write(`${JSON.stringify(facts, null, 2)}\n`);
}
