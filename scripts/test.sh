#!/usr/bin/env bash
# The test command: prepares the checkout (scripts/setup.sh), then runs every test of the
# workspace, end-to-end tests with real cometbft and nodeopd processes included.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<EOF2
Usage: scripts/test.sh [--help] [-- CARGO_TEST_ARGS...]

Runs scripts/setup.sh (installs CometBFT v0.38.25 into bin/ if needed and builds the nodeopd
and nodeop binaries the end-to-end tests start), then
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
echo "==> cargo test --workspace --no-fail-fast ${ARGS[*]}"
exec cargo test --workspace --no-fail-fast "${ARGS[@]}"
