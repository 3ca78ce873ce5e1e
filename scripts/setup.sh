#!/usr/bin/env bash
# Installs what building and testing nodeop needs, and builds it. Idempotent: a second run only
# checks versions and lets cargo confirm the build is up to date (a few seconds).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMETBFT_VERSION="0.38.25"
COMETBFT_MODULE="github.com/cometbft/cometbft/cmd/cometbft"

usage() {
  cat <<EOF
Usage: scripts/setup.sh [--release] [--no-build] [--help]

Makes this checkout ready to build, run and test nodeop:
  1. checks that cargo (rustup) and Go exist, and installs the Rust toolchain pinned in
     rust-toolchain.toml with rustfmt and clippy if it is missing;
  2. installs missing Debian packages that the build needs (a C compiler for libsecp256k1,
     curl for scripts/devnet.sh), only if something is missing;
  3. builds CometBFT v${COMETBFT_VERSION} into bin/cometbft with
     GOBIN=bin go install ${COMETBFT_MODULE}@v${COMETBFT_VERSION}
     unless bin/cometbft already reports ${COMETBFT_VERSION} (never @latest: v1.x speaks a
     different wire format);
  4. builds the workspace binaries (nodeopd, nodeop, nodeop-operator): cargo build --workspace --bins.

Options:
  --release    also build the release binaries (cargo build --release --workspace --bins)
  --no-build   stop after step 3 (tools only)
  -h, --help   show this help

Environment: CARGO_TARGET_DIR is respected by cargo as usual.
EOF
}

RELEASE=0
BUILD=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --release) RELEASE=1 ;;
    --no-build) BUILD=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "setup.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '==> %s\n' "$*"; }
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }

cd "$ROOT"

# --- Debian packages, only when something is missing --------------------------------------------
missing_pkgs=()
command -v cc >/dev/null 2>&1 || missing_pkgs+=(build-essential)
command -v curl >/dev/null 2>&1 || missing_pkgs+=(curl)
command -v git >/dev/null 2>&1 || missing_pkgs+=(git)
if [[ ${#missing_pkgs[@]} -gt 0 ]]; then
  say "installing missing packages: ${missing_pkgs[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    die "missing ${missing_pkgs[*]} and apt-get is not available; install them yourself"
  fi
  SUDO=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "missing ${missing_pkgs[*]}; run as root or install sudo"
    SUDO=(sudo)
  fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing_pkgs[@]}"
fi

# --- Rust ---------------------------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 \
  || die "cargo not found. Install Rust with rustup (https://rustup.rs), then re-run this script."
TOOLCHAIN="$(sed -n 's/^channel *= *"\([^"]*\)".*/\1/p' rust-toolchain.toml)"
[[ -n "$TOOLCHAIN" ]] || die "cannot read the channel from rust-toolchain.toml"
if command -v rustup >/dev/null 2>&1; then
  installed="$(rustup component list --toolchain "$TOOLCHAIN" --installed 2>/dev/null || true)"
  if ! grep -q '^rustfmt' <<<"$installed" || ! grep -q '^clippy' <<<"$installed" \
    || ! grep -q '^rustc' <<<"$installed"; then
    say "installing Rust $TOOLCHAIN with rustfmt and clippy"
    rustup toolchain install "$TOOLCHAIN" --profile minimal --component rustfmt --component clippy
  fi
else
  echo "setup.sh: warning: no rustup; using $(cargo --version) (pinned: $TOOLCHAIN)" >&2
fi
say "$(cargo --version)"

# --- Go and CometBFT ----------------------------------------------------------------------------
cometbft_version() {
  "$ROOT/bin/cometbft" version 2>/dev/null | head -n 1 | tr -d '[:space:]' || true
}
if [[ -x "$ROOT/bin/cometbft" && "$(cometbft_version)" == "$COMETBFT_VERSION" ]]; then
  say "cometbft $COMETBFT_VERSION already in bin/"
else
  command -v go >/dev/null 2>&1 \
    || die "go not found. Install Go >= 1.22 (https://go.dev/dl/), then re-run this script."
  say "building cometbft v$COMETBFT_VERSION with $(go version | awk '{print $3}') (a few minutes)"
  mkdir -p "$ROOT/bin"
  GOBIN="$ROOT/bin" go install "${COMETBFT_MODULE}@v${COMETBFT_VERSION}"
  got="$(cometbft_version)"
  [[ "$got" == "$COMETBFT_VERSION" ]] \
    || die "bin/cometbft reports version '$got', expected $COMETBFT_VERSION"
  say "cometbft $got installed in bin/"
fi

# --- the workspace ------------------------------------------------------------------------------
if [[ "$BUILD" == 1 ]]; then
  say "cargo build --workspace --bins"
  cargo build --workspace --bins
  if [[ "$RELEASE" == 1 ]]; then
    say "cargo build --release --workspace --bins"
    cargo build --release --workspace --bins
  fi
fi
say "setup done"
