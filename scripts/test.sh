#!/usr/bin/env bash
# What `npm test` runs after `npm run build`: start the real test services (scripts/test-env.sh),
# run every vitest test against them, and end with one line `N passed, N failed[, N skipped]`.
# Exits with vitest's exit code. Services this run started are stopped at the end unless
# KIMG_KEEP_ENV=1; services that were already running are left alone.
# Extra arguments go to vitest (e.g. `bash scripts/test.sh tests/unit`).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
env_script=scripts/test-env.sh
work="$(mktemp -d "${TMPDIR:-/tmp}/kimg-test.XXXXXX")"
report="$work/vitest.json"
started_here=0

cleanup() {
  trap - EXIT
  if ((started_here)) && [[ ${KIMG_KEEP_ENV:-0} != 1 ]]; then
    bash "$env_script" stop || echo "test.sh: stopping the test environment failed" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$env_script" status 2>/dev/null || started_here=1
if ! exports="$(bash "$env_script" start)"; then
  echo "test.sh: the test environment did not start (see messages above)" >&2
  cleanup
  echo "0 passed, 0 failed"
  exit 1
fi
eval "$exports"

status=0
npx vitest run --reporter=default --reporter=json --outputFile="$report" "$@" </dev/null || status=$?

summary="0 passed, 0 failed"
if [[ -s $report ]]; then
  # A test file that fails before any test runs (import error, failing beforeAll at file level)
  # reports no failed test; count each such file as one failure so the line never hides it.
  summary="$(node --input-type=module -e '
    import { readFileSync } from "node:fs";
    const r = JSON.parse(readFileSync(process.argv[1], "utf8"));
    const brokenFiles = (r.testResults ?? []).filter(
      (f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"),
    ).length;
    let failed = (r.numFailedTests ?? 0) + brokenFiles;
    // Vitest fails a run with an unhandled error or rejection even when every test passed.
    if (failed === 0 && process.argv[2] !== "0") {
      process.stderr.write(`test.sh: vitest exited with ${process.argv[2]} (an unhandled error?); counted as a failure\n`);
      failed = 1;
    }
    const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    process.stdout.write(`${r.numPassedTests ?? 0} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  ' "$report" "$status")"
else
  echo "test.sh: vitest wrote no report; it exited with $status" >&2
  ((status != 0)) || status=1
fi

# Stop the services first, so the summary is the very last line of output.
cleanup
echo "$summary"
exit "$status"
