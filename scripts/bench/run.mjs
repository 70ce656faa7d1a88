// `npm run bench`: kairos-img against the shell floor and skopeo/umoci on the bench image, several
// rounds each (BENCH_ROUNDS, default 3), variants interleaved (the order rotates every round),
// medians reported. Every timed run writes into a fresh ext4 filesystem (a loop-mounted sparse
// file, made and removed outside the timing): on a filesystem where a 64k-entry tree was just
// deleted, ext4's inode allocator skips inodes freed in the last 30–330 s, and file creation gets
// several times slower for whichever variant comes next — noise that would swamp the comparison.
// Without mount rights the runs share one directory (removed and synced between runs) instead.
// A readable table, then one JSON document, go to stdout; the JSON is also written to
// $BENCH_DIR/last.json. BENCH_ONLY=pull,unpack,artifacts,oras,archive,mirror limits the sections;
// oras-5g (a 5 GiB artifact pushed and pulled once for the peak RSS) runs only when named there.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_DIR, REPOSITORY, TAG, ensureLayout, ensurePushed } from './build-image.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const ONLY = new Set((process.env.BENCH_ONLY ?? 'pull,unpack,artifacts,oras,archive,mirror').split(',').map((s) => s.trim()));
const registry = process.env.KIMG_REGISTRY;
if (!registry) {
  process.stderr.write('bench: KIMG_REGISTRY is not set (run through scripts/bench.sh)\n');
  process.exit(2);
}
const TIME = '/usr/bin/time';
const work = path.join(BENCH_DIR, 'work');
const cli = path.join(repoRoot, 'bin', 'kairos-img');
const ref = `${registry}/${REPOSITORY}:${TAG}`;

const log = (line) => process.stderr.write(`bench: ${line}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round2 = (x) => Math.round(x * 100) / 100;
const round3 = (x) => Math.round(x * 1000) / 1000;

function clean(...dirs) {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  // Writeback of the previous variant's files must not be charged to the next one.
  spawnSync('sync');
}

const mnt = path.join(work, 'mnt');
const fsImage = path.join(work, 'fresh-ext4.img');
let freshFs = process.env.BENCH_FRESH_FS !== '0';

function unmountFresh() {
  if (spawnSync('mountpoint', ['-q', mnt]).status === 0) {
    if (spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
  }
  rmSync(fsImage, { force: true });
}

/** A new empty filesystem at `mnt` (or an emptied directory when mounting is not possible). */
function freshTarget() {
  if (freshFs) {
    unmountFresh();
    mkdirSync(mnt, { recursive: true });
    const ok = spawnSync('truncate', ['-s', '10G', fsImage]).status === 0 &&
      spawnSync('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', fsImage]).status === 0 &&
      spawnSync('mount', ['-o', 'loop', fsImage, mnt]).status === 0;
    if (ok) {
      spawnSync('sync');
      return;
    }
    log('cannot mount a fresh ext4 filesystem (needs root and loop devices): runs share one directory');
    freshFs = false;
    rmSync(fsImage, { force: true });
  }
  clean(mnt);
  mkdirSync(mnt, { recursive: true });
}

function releaseTarget() {
  if (freshFs) unmountFresh();
  else clean(mnt);
}

/** Runs a command under GNU time: wall seconds (our clock) and peak RSS in MB (its %M). */
function measure(name, cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const timeFile = path.join(work, `${name}.time`);
    const logFile = path.join(work, `${name}.log`);
    const out = openSync(logFile, 'w');
    const started = process.hrtime.bigint();
    const child = spawn(TIME, ['-f', '%M', '-o', timeFile, cmd, ...args], {
      stdio: ['ignore', out, out],
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd ?? repoRoot,
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      closeSync(out);
      if (code !== 0) {
        const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
        reject(new Error(`${name} failed (exit ${code}):\n${tail}`));
        return;
      }
      const kb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop());
      resolve({ seconds: round3(seconds), peakRssMB: round2(kb / 1024) });
    });
  });
}

function countEntries(dir) {
  return Number(execFileSync('bash', ['-c', 'find "$1" -mindepth 1 | wc -l', 'count', dir], { encoding: 'utf8' }).trim());
}

/** Runs each variant once per round, in an order rotated every round; returns per-variant runs. */
async function rounds(section, variants) {
  const runs = Object.fromEntries(variants.map((v) => [v.key, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length]);
    for (const v of order) {
      freshTarget();
      const [cmd, args, extra] = v.command();
      const res = await measure(`${section}-${v.key}`, cmd, args, { cwd: v.cwd, ...extra });
      if (r === 0 && v.check) res.check = v.check();
      log(`${section} round ${r + 1}/${ROUNDS} ${v.label}: ${res.seconds.toFixed(2)} s, peak RSS ${res.peakRssMB.toFixed(0)} MB`);
      runs[v.key].push(res);
      releaseTarget();
    }
  }
  const out = {};
  for (const v of variants) {
    const rs = runs[v.key];
    out[v.key] = {
      label: v.label,
      medianSeconds: round3(median(rs.map((x) => x.seconds))),
      peakRssMB: Math.max(...rs.map((x) => x.peakRssMB)),
      seconds: rs.map((x) => x.seconds),
      ...(rs[0].check !== undefined ? { check: rs[0].check } : {}),
    };
  }
  return out;
}

const kimg = (...args) => [cli, [...args, '--plain-http', '--quiet', '--json']];

async function benchPull() {
  const out = path.join(mnt, 'pull-out');
  const cache = path.join(mnt, 'pull-cache');
  const res = await rounds('pull', [
    {
      key: 'kairosImg', label: 'kairos-img pull --to oci: (empty cache)',
      command: () => kimg('pull', ref, '--to', `oci:${out}`, '--cache-dir', cache),
    },
    {
      key: 'skopeo', label: 'skopeo copy → oci:',
      command: () => ['skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:${TAG}`]],
    },
  ]);
  const ratio = round3(res.kairosImg.medianSeconds / res.skopeo.medianSeconds);
  return {
    ...res,
    ratio,
    targets: { ratio: 0.8, peakRssMB: 100 },
    met: { ratio: ratio <= 0.8, peakRss: res.kairosImg.peakRssMB <= 100 },
  };
}

// --- ORAS artifacts: kairos-img artifact push|pull against the same HTTP work done by curl --------

const orasDir = path.join(BENCH_DIR, 'oras');
const ORAS_FILE_MIB = Number(process.env.BENCH_ORAS_MIB ?? 600);

/** A file of `mib` MiB of random bytes (incompressible, like a compressed disk image), made once. */
function orasFile(name, mib, source = '/dev/urandom') {
  mkdirSync(orasDir, { recursive: true });
  const file = path.join(orasDir, name);
  if (existsSync(file) && statSync(file).size === mib * 1024 * 1024) return file;
  log(`making ${file} (${mib} MiB from ${source}), once`);
  execFileSync('bash', ['-c', `head -c ${mib * 1024 * 1024} ${source} > "$1.tmp" && mv "$1.tmp" "$1"`, 'mk', file]);
  return file;
}

const sha256Of = (file) => execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];

/**
 * Push: kairos-img artifact push (digest read, HEAD, POST, monolithic or chunked PUT, manifest) of
 * a 600 MiB file, against `sha256sum` of the file plus curl's POST and PUT ?digest= of it. Each
 * round pushes into a repository of its own, so nothing is skipped as already there.
 */
async function benchOrasPush() {
  const file = orasFile('file.bin', ORAS_FILE_MIB);
  let n = 0;
  const repo = (v) => `bench/oras-push-${process.pid}-${v}-${n++}`;
  const curlPush = [
    'set -eo pipefail',
    'reg="$1"; repo="$2"; file="$3"',
    'd=$(sha256sum "$file" | cut -d" " -f1)',
    'loc=$(curl -sSf -X POST -D - -o /dev/null "http://$reg/v2/$repo/blobs/uploads/" | tr -d "\r" | awk -F": " \'tolower($1)=="location"{print $2}\')',
    'case $loc in http*) ;; *) loc="http://$reg$loc" ;; esac',
    'case $loc in *\\?*) sep="&" ;; *) sep="?" ;; esac',
    'curl -sSf -X PUT -H "Content-Type: application/octet-stream" -T "$file" -o /dev/null "$loc${sep}digest=sha256:$d"',
  ].join('\n');
  const res = await rounds('oras-push', [
    {
      key: 'kairosImg', label: `kairos-img artifact push (${ORAS_FILE_MIB} MiB)`,
      command: () => [cli, ['artifact', 'push', `${registry}/${repo('k')}:v1`, path.basename(file), '--plain-http', '--quiet', '--json']],
      cwd: orasDir,
    },
    {
      key: 'curl', label: 'sha256sum + curl POST + PUT ?digest=',
      command: () => ['bash', ['-c', curlPush, 'push', registry, repo('c'), file]],
    },
  ]);
  const ratio = round3(res.kairosImg.medianSeconds / res.curl.medianSeconds);
  return { ...res, ratio, targets: { ratio: 1.2 }, met: { ratio: ratio <= 1.2 } };
}

/** Pull: kairos-img artifact pull (verified, temp name, fsync, rename) against curl GET to a file plus sha256sum. */
async function benchOrasPull() {
  const file = orasFile('file.bin', ORAS_FILE_MIB);
  const ref = `${registry}/bench/oras-pull:v${ORAS_FILE_MIB}`;
  const pushed = spawnSync(cli, ['artifact', 'push', ref, path.basename(file), '--plain-http', '--quiet', '--json'], { cwd: orasDir, encoding: 'utf8' });
  if (pushed.status !== 0) throw new Error(`pushing the pull bench artifact failed: ${pushed.stderr}`);
  const digest = `sha256:${sha256Of(file)}`;
  const out = path.join(mnt, 'oras-out');
  const res = await rounds('oras-pull', [
    {
      key: 'kairosImg', label: `kairos-img artifact pull (${ORAS_FILE_MIB} MiB)`,
      command: () => [cli, ['artifact', 'pull', ref, '--out', out, '--plain-http', '--quiet', '--json']],
      check: () => sha256Of(path.join(out, path.basename(file))) === digest.slice(7),
    },
    {
      key: 'curl', label: 'curl GET to a file + sha256sum',
      command: () => ['bash', ['-c', 'set -e; mkdir -p "$2"; curl -sSf -o "$2/file.bin" "$1"; sha256sum "$2/file.bin" > /dev/null',
        'pull', `http://${registry}/v2/bench/oras-pull/blobs/${digest}`, out]],
    },
  ]);
  const ratio = round3(res.kairosImg.medianSeconds / res.curl.medianSeconds);
  return { ...res, ratio, targets: { ratio: 1.0 }, met: { ratio: ratio <= 1.0 } };
}

/** Peak RSS of pushing and pulling a 5 GiB file, measured once (BENCH_ONLY=oras-5g). */
async function benchOrasBig() {
  const mib = Number(process.env.BENCH_ORAS_BIG_MIB ?? 5120);
  const file = orasFile('big.bin', mib, '/dev/zero');
  const ref = `${registry}/bench/oras-big-${process.pid}:v1`;
  const out = path.join(mnt, 'oras-big-out');
  freshTarget();
  const push = await measure('oras-big-push', cli, ['artifact', 'push', ref, path.basename(file), '--plain-http', '--quiet', '--json'], { cwd: orasDir });
  log(`oras-5g push: ${push.seconds.toFixed(1)} s, peak RSS ${push.peakRssMB} MB`);
  const pull = await measure('oras-big-pull', cli, ['artifact', 'pull', ref, '--out', out, '--plain-http', '--quiet', '--json']);
  log(`oras-5g pull: ${pull.seconds.toFixed(1)} s, peak RSS ${pull.peakRssMB} MB`);
  releaseTarget();
  const peak = Math.max(push.peakRssMB, pull.peakRssMB);
  return { mib, push, pull, targets: { peakRssMB: 150 }, met: { peakRss: peak <= 150 } };
}

async function benchUnpack(facts) {
  const out = path.join(mnt, 'unpack-out');
  const layout = path.join(mnt, 'unpack-layout');
  const cache = path.join(mnt, 'unpack-cache');
  const warmCache = path.join(work, 'warm-cache');
  clean(warmCache);
  log('filling the warm cache (kairos-img pull)');
  await measure('warm-fill', ...kimg('pull', ref, '--cache-dir', warmCache));
  const urls = facts.layers.map((l) => `http://${registry}/v2/${REPOSITORY}/blobs/${l.digest}`);
  const floorScript = 'set -eo pipefail; out="$1"; shift; mkdir -p "$out"; for u in "$@"; do curl -sSf "$u" | gzip -d | tar -x -C "$out"; done';
  const res = await rounds('unpack', [
    {
      key: 'floor', label: '(a) curl | gzip -d | tar -x',
      command: () => ['bash', ['-c', floorScript, 'floor', out, ...urls]],
      check: () => countEntries(out),
    },
    {
      key: 'skopeoUmoci', label: '(b) skopeo copy + umoci unpack --rootless',
      command: () => ['bash', ['-c', `set -e; skopeo copy --quiet --src-tls-verify=false "docker://$1" "oci:$2:${TAG}"; umoci unpack --rootless --image "$2:${TAG}" "$3"`, 'b', ref, layout, out]],
      check: () => countEntries(path.join(out, 'rootfs')),
    },
    {
      key: 'cold', label: '(c) kairos-img unpack, cold cache',
      command: () => kimg('unpack', ref, out, '--cache-dir', cache),
      check: () => countEntries(out),
    },
    {
      key: 'warm', label: '(d) kairos-img unpack, warm cache',
      command: () => kimg('unpack', ref, out, '--cache-dir', warmCache),
      check: () => countEntries(out),
    },
  ]);
  clean(warmCache);
  const f = res.floor.medianSeconds;
  const ratios = {
    coldVsFloor: round3(res.cold.medianSeconds / f),
    coldVsSkopeoUmoci: round3(res.cold.medianSeconds / res.skopeoUmoci.medianSeconds),
    warmVsFloor: round3(res.warm.medianSeconds / f),
  };
  const peakRssMB = Math.max(res.cold.peakRssMB, res.warm.peakRssMB);
  return {
    ...res,
    ratios,
    peakRssMB,
    targets: { coldVsFloor: 1.0, coldVsSkopeoUmoci: 0.4, warmVsFloor: 0.8, peakRssMB: 256 },
    met: {
      coldVsFloor: ratios.coldVsFloor <= 1.0,
      coldVsSkopeoUmoci: ratios.coldVsSkopeoUmoci <= 0.4,
      warmVsFloor: ratios.warmVsFloor <= 0.8,
      peakRss: peakRssMB <= 256,
    },
  };
}

/**
 * `unpack docker-archive:` of the bench image (as `skopeo copy … docker-archive:` writes it: plain
 * layer tars, what `docker save` writes too) against the shell floor: per layer,
 * `tar -xOf ARCHIVE LAYER | tar -x` (GNU tar seeks over the other members of a regular file).
 */
async function benchArchive() {
  const archive = path.join(BENCH_DIR, 'bench.docker.tar');
  if (!existsSync(archive)) {
    log('writing the bench image as a docker-archive (skopeo copy)');
    execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `docker-archive:${archive}.tmp:${REPOSITORY}:${TAG}`], { stdio: 'inherit' });
    execFileSync('mv', [`${archive}.tmp`, archive]);
  }
  const entries = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }));
  const layers = entries[0].Layers;
  const out = path.join(mnt, 'archive-out');
  const floorScript = 'set -eo pipefail; a="$1"; out="$2"; shift 2; mkdir -p "$out"; for m in "$@"; do tar -xOf "$a" "$m" | tar -x -C "$out"; done';
  const res = await rounds('archive', [
    {
      key: 'floor', label: 'tar -xOf ARCHIVE LAYER | tar -x, per layer',
      command: () => ['bash', ['-c', floorScript, 'floor', archive, out, ...layers]],
      check: () => countEntries(out),
    },
    {
      key: 'kairosImg', label: 'kairos-img unpack docker-archive:',
      command: () => kimg('unpack', `docker-archive:${archive}`, out, '--cache-dir', path.join(mnt, 'archive-cache')),
      check: () => countEntries(out),
    },
  ]);
  const ratio = round3(res.kairosImg.medianSeconds / res.floor.medianSeconds);
  return { ...res, archiveBytes: statSync(archive).size, ratio, peakRssMB: res.kairosImg.peakRssMB };
}

/**
 * `mirror` of the bench image from the test registry to another registry (the Basic-auth one: other
 * storage, so nothing can be mounted), a fresh destination repository every run, against
 * `skopeo sync` of the same image (sync takes one image with its tag; it keeps only the last path
 * component of the repository, kairos-img the whole path). skopeo's blob-info cache is removed
 * before each of its runs: it remembers where blobs were pushed before and would mount them from
 * an earlier round's repository, which a first mirror cannot.
 */
async function benchMirror() {
  const basic = process.env.KIMG_REGISTRY_BASIC;
  const user = process.env.KIMG_BASIC_USER;
  const pass = process.env.KIMG_BASIC_PASS;
  if (!basic || !user || !pass) return { skipped: 'the Basic-auth registry of scripts/test-env.sh is not exported' };
  const dockerConfig = path.join(work, 'mirror-docker-config');
  mkdirSync(dockerConfig, { recursive: true });
  writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [basic]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } } }));
  const stamp = Date.now().toString(36);
  let n = 0;
  const skopeoScript = 'rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb; exec skopeo sync --src docker --dest docker --src-tls-verify=false --dest-tls-verify=false --dest-creds "$1" "$2" "$3"';
  // The HTTP floor: per blob, curl GET from the source piped into one curl PATCH to the
  // destination (all blobs at once), PUT ?digest=, then the manifest — the same requests with no
  // client-side work at all. What the destination registry needs to ingest bounds every copier.
  const [srcRegistry, ...srcPath] = ref.split('/');
  const srcRepo = srcPath.join('/').replace(/:[^:/]+$/, '');
  const accept = 'application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json';
  const manifestText = execFileSync('curl', ['-sf', '-H', `Accept: ${accept}`, `http://${srcRegistry}/v2/${srcRepo}/manifests/${TAG}`], { encoding: 'utf8' });
  const manifest = JSON.parse(manifestText);
  const manifestFile = path.join(work, 'mirror-floor-manifest.json');
  writeFileSync(manifestFile, manifestText);
  const floorBlobs = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
  const floorScript = [
    'set -euo pipefail; src="$1"; dst="$2"; auth="$3"; mt="$4"; mf="$5"; tag="$6"; shift 6',
    'loc() { tr -d "\\r" | awk -F": " \'tolower($1)=="location"{print $2}\' | sed "s|^/|http://${dst%%/*}/|"; }',
    'copy() {',
    '  u=$(curl -sf -u "$auth" -X POST -D - -o /dev/null "http://${dst%%/*}/v2/${dst#*/}/blobs/uploads/" | loc)',
    '  u=$(curl -sf "http://${src%%/*}/v2/${src#*/}/blobs/$1" | curl -sf -u "$auth" -X PATCH -H "Content-Type: application/octet-stream" -T - -D - -o /dev/null "$u" | loc)',
    '  case $u in *\\?*) s="&";; *) s="?";; esac',
    '  curl -sf -u "$auth" -X PUT -o /dev/null "$u${s}digest=$1"',
    '}',
    'pids=(); for d in "$@"; do copy "$d" & pids+=($!); done; for p in "${pids[@]}"; do wait "$p"; done',
    'curl -sf -u "$auth" -X PUT -H "Content-Type: $mt" --data-binary "@$mf" -o /dev/null "http://${dst%%/*}/v2/${dst#*/}/manifests/$tag"',
  ].join('\n');
  const res = await rounds('mirror', [
    {
      key: 'floor', label: 'curl GET | curl PATCH per blob (HTTP floor)',
      command: () => ['bash', ['-c', floorScript, 'floor', `${srcRegistry}/${srcRepo}`, `${basic}/bench-mirror-${stamp}-f${n++}`, `${user}:${pass}`, manifest.mediaType, manifestFile, TAG, ...floorBlobs]],
    },
    {
      key: 'kairosImg', label: 'kairos-img mirror → another registry',
      command: () => [cli, ['mirror', ref, '--to', `${basic}/bench-mirror-${stamp}-k${n++}`, '--plain-http', '--quiet', '--json'], { env: { DOCKER_CONFIG: dockerConfig } }],
    },
    {
      key: 'skopeo', label: 'skopeo sync → another registry',
      command: () => ['bash', ['-c', skopeoScript, 'sync', `${user}:${pass}`, ref, `${basic}/bench-mirror-${stamp}-s${n++}`]],
    },
  ]);
  const ratio = round3(res.kairosImg.medianSeconds / res.skopeo.medianSeconds);
  return {
    ...res,
    ratio,
    floorRatios: { kairosImg: round3(res.kairosImg.medianSeconds / res.floor.medianSeconds), skopeo: round3(res.skopeo.medianSeconds / res.floor.medianSeconds) },
    targets: { ratio: 0.8, peakRssMB: 150 },
    met: { ratio: ratio <= 0.8, peakRss: res.kairosImg.peakRssMB <= 150 },
  };
}

/** The artifact bench is another script (scripts/bench-artifacts.mjs); its last JSON line is its result. */
function benchArtifacts() {
  const script = path.join(repoRoot, 'scripts', 'bench-artifacts.mjs');
  if (!existsSync(script)) return { skipped: 'scripts/bench-artifacts.mjs is not there (yet)' };
  log('running scripts/bench-artifacts.mjs');
  const r = spawnSync('node', [script], {
    cwd: repoRoot,
    env: { ...process.env, BENCH_ROUNDS: String(ROUNDS), BENCH_DIR },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = (r.stdout ?? '').trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const doc = JSON.parse(line);
      if (doc !== null && typeof doc === 'object') return r.status === 0 ? doc : { ...doc, exitCode: r.status };
    } catch {
      // not the JSON line
    }
  }
  return { failed: `scripts/bench-artifacts.mjs exited ${r.status} without a JSON line` };
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const fs = spawnSync('df', ['--output=fstype', work], { encoding: 'utf8' }).stdout.trim().split('\n').pop();
  return {
    nproc: os.availableParallelism(),
    cpu: model,
    memoryGiB: round2(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    workFilesystem: fs,
    tools: {
      skopeo: spawnSync('skopeo', ['--version'], { encoding: 'utf8' }).stdout.trim(),
      umoci: spawnSync('umoci', ['--version'], { encoding: 'utf8' }).stdout.trim(),
      gzip: spawnSync('gzip', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
      tar: spawnSync('tar', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
    },
  };
}

function table(report) {
  const lines = [];
  const row = (name, r) => lines.push(`  ${name.padEnd(46)} ${r.medianSeconds.toFixed(2).padStart(8)} s  ${String(Math.round(r.peakRssMB)).padStart(6)} MB   [${r.seconds.map((s) => s.toFixed(2)).join(', ')}]`);
  const mark = (ok) => (ok ? 'ok' : 'MISSED');
  const m = report.machine;
  lines.push(`kairos-img bench — ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.kernel}, node ${m.node}; written to ${m.targetFilesystem}`);
  lines.push(`image ${report.image.reference}: ${report.image.layers} gzip layers, ${(report.image.compressedBytes / 1e6).toFixed(0)} MB compressed, ${(report.image.unpackedBytes / 1e9).toFixed(2)} GB / ${report.image.entries} entries unpacked; ${report.rounds} rounds, medians`);
  lines.push(`  ${'variant'.padEnd(46)} ${'median'.padStart(10)}  ${'peak RSS'.padStart(9)}   [rounds]`);
  if (report.pull) {
    const p = report.pull;
    lines.push('pull');
    row(p.kairosImg.label, p.kairosImg);
    row(p.skopeo.label, p.skopeo);
    lines.push(`  ratio kairos-img / skopeo: ${p.ratio.toFixed(3)} (target ≤ 0.8: ${mark(p.met.ratio)}); kairos-img peak RSS ${p.kairosImg.peakRssMB} MB (≤ 100: ${mark(p.met.peakRss)})`);
  }
  if (report.unpack) {
    const u = report.unpack;
    lines.push('unpack');
    for (const k of ['floor', 'skopeoUmoci', 'cold', 'warm']) row(u[k].label, u[k]);
    lines.push(`  (c)/(a) ${u.ratios.coldVsFloor.toFixed(3)} (≤ 1.0: ${mark(u.met.coldVsFloor)})   (c)/(b) ${u.ratios.coldVsSkopeoUmoci.toFixed(3)} (≤ 0.4: ${mark(u.met.coldVsSkopeoUmoci)})   (d)/(a) ${u.ratios.warmVsFloor.toFixed(3)} (≤ 0.8: ${mark(u.met.warmVsFloor)})`);
    lines.push(`  kairos-img peak RSS ${u.peakRssMB} MB (≤ 256: ${mark(u.met.peakRss)}); entries (a) ${u.floor.check} (b) ${u.skopeoUmoci.check} (c) ${u.cold.check} (d) ${u.warm.check}`);
  }
  if (report.archive) {
    const a = report.archive;
    lines.push(`unpack docker-archive: (${(a.archiveBytes / 1e9).toFixed(2)} GB archive)`);
    row(a.floor.label, a.floor);
    row(a.kairosImg.label, a.kairosImg);
    lines.push(`  ratio kairos-img / floor: ${a.ratio.toFixed(3)}; kairos-img peak RSS ${a.peakRssMB} MB; entries floor ${a.floor.check} kairos-img ${a.kairosImg.check}`);
  }
  if (report.mirror && !report.mirror.skipped) {
    const m = report.mirror;
    lines.push('mirror registry → another registry (fresh repository)');
    row(m.kairosImg.label, m.kairosImg);
    row(m.skopeo.label, m.skopeo);
    row(m.floor.label, m.floor);
    lines.push(`  ratio kairos-img / skopeo sync: ${m.ratio.toFixed(3)} (target ≤ 0.8: ${mark(m.met.ratio)}); kairos-img peak RSS ${m.kairosImg.peakRssMB} MB (≤ 150: ${mark(m.met.peakRss)})`);
    lines.push(`  over the HTTP floor: kairos-img ${m.floorRatios.kairosImg.toFixed(3)}, skopeo sync ${m.floorRatios.skopeo.toFixed(3)} (no copier can beat the floor, so the 0.8 target needs skopeo above 1.25× it)`);
  }
  if (report.oras) {
    const { push, pull } = report.oras;
    lines.push('ORAS artifacts');
    row(push.kairosImg.label, push.kairosImg);
    row(push.curl.label, push.curl);
    lines.push(`  push ratio ${push.ratio.toFixed(3)} (≤ 1.2: ${mark(push.met.ratio)})`);
    row(pull.kairosImg.label, pull.kairosImg);
    row(pull.curl.label, pull.curl);
    lines.push(`  pull ratio ${pull.ratio.toFixed(3)} (≤ 1.0: ${mark(pull.met.ratio)}); file verified: ${pull.kairosImg.check}`);
  }
  if (report.orasBig) {
    const b = report.orasBig;
    lines.push(`ORAS ${b.mib} MiB once: push ${b.push.seconds} s / ${b.push.peakRssMB} MB, pull ${b.pull.seconds} s / ${b.pull.peakRssMB} MB (peak RSS ≤ 150: ${mark(b.met.peakRss)})`);
  }
  if (report.artifacts) {
    lines.push('artifacts (scripts/bench-artifacts.mjs)');
    lines.push(`  ${JSON.stringify(report.artifacts)}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main() {
  mkdirSync(work, { recursive: true });
  const facts = ensureLayout();
  ensurePushed(registry, facts);
  process.on('exit', () => {
    if (freshFs) unmountFresh();
  });
  const report = {
    date: new Date().toISOString(),
    machine: machine(),
    image: {
      reference: ref,
      manifestDigest: facts.manifestDigest,
      layers: facts.layers.length,
      layerPaths: facts.layers.map((l) => l.paths),
      compressedBytes: facts.compressedBytes,
      unpackedBytes: facts.unpackedBytes,
      entries: facts.entries,
    },
    rounds: ROUNDS,
  };
  if (ONLY.has('pull')) report.pull = await benchPull();
  if (ONLY.has('unpack')) report.unpack = await benchUnpack(facts);
  if (ONLY.has('artifacts')) report.artifacts = benchArtifacts();
  if (ONLY.has('oras')) report.oras = { push: await benchOrasPush(), pull: await benchOrasPull() };
  if (ONLY.has('oras-5g')) report.orasBig = await benchOrasBig();
  if (ONLY.has('archive')) report.archive = await benchArchive();
  if (ONLY.has('mirror')) report.mirror = await benchMirror();
  report.machine.targetFilesystem = freshFs ? 'a fresh ext4 (loop-mounted sparse file) per timed run' : `${report.machine.workFilesystem}, shared by all runs`;
  const json = JSON.stringify(report, null, 2);
  writeFileSync(path.join(BENCH_DIR, 'last.json'), `${json}\n`);
  process.stdout.write(table(report));
  process.stdout.write(`${json}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
