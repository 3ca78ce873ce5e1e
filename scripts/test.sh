#!/usr/bin/env bash
# The test command: prepares the checkout (scripts/setup.sh), then runs every test of the
# workspace, end-to-end tests with real cometbft and nodeopd processes included.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<EOF2
Usage: scripts/test.sh [--help] [-- CARGO_TEST_ARGS...]

Runs scripts/setup.sh (installs CometBFT v0.38.25 into bin/ if needed and builds the nodeopd
and nodeop binaries the end-to-end tests start), installs the CosmJS test's npm packages
(npm ci --prefix tests/js, the versions pinned in tests/js/package-lock.json; skipped with a
message when node or npm is missing, and then the CosmJS half of
e2e_cosmjs_and_the_cli_sign_in_direct_mode_against_a_real_devnet is skipped too), then
    cargo test --workspace --no-fail-fast [CARGO_TEST_ARGS...]
Every test target runs even if an earlier one fails; the output ends with cargo's own summary
lines (listing the failed targets, if any) and the exit status is cargo's.

Examples:
  scripts/test.sh
  scripts/test.sh -- -p nodeop-tests --test e2e_crash_replay   (one end-to-end test)
EOF2
}

ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --) shift; ARGS+=("$@"); break ;;
    *) echo "test.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

cd "$ROOT"
"$ROOT/scripts/setup.sh"
JS="$ROOT/tests/js"
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  # npm ci wipes and reinstalls: only when the lockfile changed since the last install
  if [[ ! -f "$JS/node_modules/.package-lock.json" || "$JS/package-lock.json" -nt "$JS/node_modules/.package-lock.json" ]]; then
    echo "==> npm ci --prefix tests/js (CosmJS $(node --version))"
    npm ci --prefix "$JS" --no-audit --no-fund
  fi
else
  echo "==> SKIPPING the CosmJS test (tests/js): node or npm is not on PATH; install Node.js 18 or later to run it" >&2
fi
echo "==> cargo test --workspace --no-fail-fast ${ARGS[*]}"
exec cargo test --workspace --no-fail-fast "${ARGS[@]}"
