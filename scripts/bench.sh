#!/usr/bin/env bash
# `npm run bench` (after the build): the test registry up, GNU time present, then the bench driver.
# Figures go to stdout (a table, then one JSON document) and to /tmp/kairos-img-bench/last.json.
set -euo pipefail
cd "$(dirname "$0")/.."

# `start` is idempotent; if it fails or hangs (services started by another run), the exports of
# the running services are enough.
if ! env_lines="$(timeout 180 bash scripts/test-env.sh start 2>/dev/null)" || [ -z "$env_lines" ]; then
  env_lines="$(bash scripts/test-env.sh env)"
fi
eval "$env_lines"
if [ -z "${KIMG_REGISTRY:-}" ]; then
  echo "bench: the test registry is not running (bash scripts/test-env.sh start)" >&2
  exit 1
fi

if [ ! -x /usr/bin/time ]; then
  echo "bench: installing GNU time (peak RSS)" >&2
  apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq time >/dev/null; }
fi
for tool in skopeo umoci curl gzip tar; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done

exec node scripts/bench/run.mjs
