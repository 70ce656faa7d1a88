// A focused unpack measurement for optimisation work (not part of `npm run bench`): the bench
// image's layers read from its local OCI layout, applied with dist/unpack's unpackImage and, in
// the same run and interleaved, with `gzip -dc | tar -x` — wall, user and system seconds each.
//   node scripts/bench/unpack-local.mjs [rounds] [--only=kimg|tar] [--profile] [--settle=SECONDS] [--fresh]
// With --profile the kairos-img run happens in a child under `node --cpu-prof` (profile in $BENCH_DIR/prof).
import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_DIR } from './build-image.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const facts = JSON.parse(readFileSync(path.join(BENCH_DIR, 'image.json'), 'utf8'));
const blob = (d) => path.join(BENCH_DIR, 'image', 'blobs', 'sha256', d.slice(7));
const mnt = path.join(BENCH_DIR, 'work', 'local-mnt');
const fsImage = path.join(BENCH_DIR, 'work', 'local-ext4.img');
const out = path.join(mnt, 'out');
const args = process.argv.slice(2);
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
const only = args.find((a) => a.startsWith('--only='))?.slice(7);

async function kimgOnce() {
  const { unpackImage } = await import(path.join(process.env.KIMG_DIST ?? path.join(repoRoot, 'dist'), 'unpack', 'index.js'));
  const before = process.resourceUsage();
  const t0 = performance.now();
  const report = await unpackImage({
    dir: out,
    layers: facts.layers.map((l) => ({
      digest: l.digest, size: l.size, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      open: async () => createReadStream(blob(l.digest), { highWaterMark: 1024 * 1024 }),
    })),
  });
  const wall = (performance.now() - t0) / 1000;
  const after = process.resourceUsage();
  return {
    wall, user: (after.userCPUTime - before.userCPUTime) / 1e6, sys: (after.systemCPUTime - before.systemCPUTime) / 1e6,
    rssMB: after.maxRSS / 1024, entries: report.entries,
  };
}

const settle = Number(args.find((a) => a.startsWith('--settle='))?.slice(9) ?? 0);
function unmount() {
  if (spawnSync('mountpoint', ['-q', mnt]).status === 0) spawnSync('umount', [mnt]);
  rmSync(fsImage, { force: true });
}
function clean(last = false) {
  unmount();
  rmSync(out, { recursive: true, force: true });
  spawnSync('sync');
  if (!last && args.includes('--fresh')) {
    // A new ext4 per run, as scripts/bench/run.mjs does.
    mkdirSync(mnt, { recursive: true });
    spawnSync('truncate', ['-s', '10G', fsImage]);
    spawnSync('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', fsImage]);
    if (spawnSync('mount', ['-o', 'loop', fsImage, mnt]).status !== 0) throw new Error('mount failed');
  }
  // ext4 skips inodes freed in the last 30 s when allocating: a fresh tree right after deleting one is slow.
  if (settle > 0) spawnSync('sleep', [String(settle)]);
}

function timed(cmd, argv) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...argv], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(r.stderr);
  const [wall, user, sys, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, user, sys, rssMB: kb / 1024 };
}

const fmt = (name, r) => `${name.padEnd(10)} wall ${r.wall.toFixed(2)} s  user ${r.user.toFixed(2)}  sys ${r.sys.toFixed(2)}  rss ${r.rssMB.toFixed(0)} MB`;

if (args.includes('--child')) {
  const r = await kimgOnce();
  process.stdout.write(`${JSON.stringify(r)}\n`);
} else {
  mkdirSync(path.dirname(out), { recursive: true });
  for (let i = 0; i < rounds; i++) {
    const variants = [];
    if (only !== 'tar') variants.push('kimg');
    if (only !== 'kimg') variants.push('tar');
    if (i % 2) variants.reverse();
    for (const v of variants) {
      clean();
      if (v === 'tar') {
        const script = `set -eo pipefail; mkdir -p "$1"; o="$1"; shift; for b in "$@"; do gzip -dc "$b" | tar -x -C "$o"; done`;
        console.log(fmt('tar', timed('bash', ['-c', script, 'tar', out, ...facts.layers.map((l) => blob(l.digest))])));
      } else {
        const profile = args.includes('--profile') ? ['--cpu-prof', '--cpu-prof-dir', path.join(BENCH_DIR, 'prof')] : [];
        const r = spawnSync('node', [...profile, fileURLToPath(import.meta.url), '--child'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
        if (r.status !== 0) throw new Error('kairos-img unpack failed');
        console.log(fmt('kairos-img', JSON.parse(r.stdout.trim().split('\n').pop())));
      }
    }
  }
  clean(true);
}
