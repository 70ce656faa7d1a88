#!/usr/bin/env node
// Benchmark of `kairos-img extract-img` (issue 6): a ~600 MiB raw disk-image artifact (one gzip
// layer holding build/<name>.img and its .sha256, as luet pack makes it) is extracted with
// verification on (blob digest + sha256 of the image against the .sha256), against the floor of
// `curl -s BLOB | gzip -d | tar -x` of the same layer (no verification at all). Target ratio ≤ 0.9.
//
//   KIMG_REGISTRY=127.0.0.1:5000 node scripts/bench-artifacts.mjs [--rounds N] [--size-mib M]
//
// The artifact is built once and cached under /tmp/kairos-img-bench-artifact. Needs the built CLI
// (npx tsc -p tsconfig.build.json), GNU time (/usr/bin/time) for the peak RSS, curl, gzip, tar.
// Prints a table on stderr and one JSON line on stdout for a bench driver to collect.

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { buildImage, pushImage } from './fixtures/image-builder.mjs';
import { rpiArtifactLayers } from './fixtures/kairos-shapes.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const exec = promisify(execFile);
const { values } = parseArgs({ options: { rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '3' }, 'size-mib': { type: 'string', default: '600' } } });
const rounds = Number(values.rounds);
const sizeMiB = Number(values['size-mib']);
const registry = process.env.KIMG_REGISTRY;
if (!registry) {
  process.stderr.write('bench-artifacts: KIMG_REGISTRY is not set (eval "$(bash scripts/test-env.sh start)")\n');
  process.exit(1);
}
const CACHE = `/tmp/kairos-img-bench-artifact/${sizeMiB}mib`;
const NAME = `kairos-core-alpine-arm-rpi-bench-${sizeMiB}mib`;
const REPOSITORY = 'bench/core-alpine-arm-rpi';
const TAG = `v1.5.0-bench${sizeMiB}.img`;
const log = (line) => process.stderr.write(`${line}\n`);

/** Builds the artifact layout once (deterministic bytes); returns its facts. */
async function artifact() {
  const record = path.join(CACHE, 'bench.json');
  if (existsSync(record)) return JSON.parse(await readFile(record, 'utf8'));
  log(`building a ${sizeMiB} MiB raw disk-image artifact under ${CACHE} (once)…`);
  await rm(CACHE, { recursive: true, force: true });
  const layoutDir = path.join(CACHE, 'layout');
  const art = await rpiArtifactLayers({ workDir: path.join(CACHE, 'work'), name: NAME, version: 'v1.5.0', size: sizeMiB * 1024 * 1024, imageCompression: 'none' });
  const img = await buildImage({ dir: layoutDir, tag: 'bench', format: 'docker', arch: '', os: '', layers: art.layers });
  await rm(path.join(CACHE, 'work'), { recursive: true, force: true });
  const facts = { layoutDir, digest: img.manifestDigest, layer: img.layers[0], rawSha256: art.facts.rawSha256, rawSize: art.facts.rawSize };
  await writeFile(record, JSON.stringify(facts, null, 2));
  return facts;
}

async function ensurePushed(facts) {
  const res = await fetch(`http://${registry}/v2/${REPOSITORY}/manifests/${TAG}`, { method: 'HEAD', headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  if (res.status === 200 && res.headers.get('docker-content-digest') === facts.digest) return;
  log(`pushing ${registry}/${REPOSITORY}:${TAG}…`);
  await pushImage({ layoutDir: facts.layoutDir, tag: 'bench', dest: `${registry}/${REPOSITORY}:${TAG}` });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs a command under GNU time; returns wall seconds and peak RSS (KiB) of the measured process. */
function timed(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-v', cmd, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.split("\n\tCommand being timed")[0].slice(-1500)}`));
      const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN);
      resolve({ seconds, rssKiB: rss });
    });
  });
}

async function main() {
  const facts = await artifact();
  await ensurePushed(facts);
  const work = '/tmp/kairos-img-bench-artifact/run';
  const ref = `${registry}/${REPOSITORY}:${TAG}`;
  const blobUrl = `http://${registry}/v2/${REPOSITORY}/blobs/${facts.layer.digest}`;
  const ours = [];
  const floor = [];
  for (let i = 0; i < rounds; i++) {
    for (const which of i % 2 === 0 ? ['ours', 'floor'] : ['floor', 'ours']) {
      await rm(work, { recursive: true, force: true });
      await mkdir(work, { recursive: true });
      if (which === 'ours') {
        // A fresh cache each round: the blob comes from the registry, as on a first extraction.
        const r = await timed(path.join(ROOT, 'bin/kairos-img'), ['--registry', registry, '--plain-http', '--quiet', '--json', 'extract-img', ref, '--out', path.join(work, 'out')], { KAIROS_IMG_CACHE: path.join(work, 'cache') });
        ours.push(r);
        log(`round ${i + 1}: kairos-img extract-img ${r.seconds.toFixed(2)} s, peak RSS ${(r.rssKiB / 1024).toFixed(0)} MiB`);
      } else {
        const r = await timed('bash', ['-c', `set -o pipefail; curl -sf "${blobUrl}" | gzip -d | tar -x -C "${work}"`], {});
        floor.push(r);
        log(`round ${i + 1}: curl | gzip -d | tar -x  ${r.seconds.toFixed(2)} s`);
      }
    }
  }
  // One last check that what the bench measured is right: the extracted image hashes as the fixture says.
  await rm(work, { recursive: true, force: true });
  const check = await exec(path.join(ROOT, 'bin/kairos-img'), ['--registry', registry, '--plain-http', '--quiet', '--json', 'extract-img', ref, '--out', path.join(work, 'out')], { env: { ...process.env, KAIROS_IMG_CACHE: path.join(work, 'cache') }, maxBuffer: 1 << 24 });
  const image = JSON.parse(check.stdout).files.find((f) => f.role === 'image');
  if (image?.sha256 !== facts.rawSha256 || image?.verified !== true) throw new Error(`extract-img produced ${image?.sha256} (verified ${image?.verified}); expected ${facts.rawSha256}`);
  await rm(work, { recursive: true, force: true });
  const oursMedian = median(ours.map((r) => r.seconds));
  const floorMedian = median(floor.map((r) => r.seconds));
  const ratio = oursMedian / floorMedian;
  const result = {
    bench: 'extract-img',
    imageMiB: sizeMiB,
    layerBytes: facts.layer.size,
    rounds,
    extractImgSeconds: Number(oursMedian.toFixed(3)),
    curlGzipTarSeconds: Number(floorMedian.toFixed(3)),
    ratio: Number(ratio.toFixed(3)),
    target: 0.9,
    met: ratio <= 0.9,
    extractImgMiBps: Number((sizeMiB / oursMedian).toFixed(1)),
    peakRssMiB: Number((Math.max(...ours.map((r) => r.rssKiB)) / 1024).toFixed(1)),
    verified: true,
  };
  log(`extract-img ${result.extractImgSeconds} s vs curl|gzip|tar ${result.curlGzipTarSeconds} s → ratio ${result.ratio} (target ≤ 0.9: ${result.met ? 'met' : 'NOT met'}), peak RSS ${result.peakRssMiB} MiB`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench-artifacts: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
