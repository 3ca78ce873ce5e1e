#!/usr/bin/env bash
# One-command local devnet: a single-validator nodeop chain with three funded dev keys.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHAIN_ID="nodeop-devnet"
MONIKER="devnet-validator"
RPC_PORT="${DEVNET_RPC_PORT:-26657}"
P2P_PORT="${DEVNET_P2P_PORT:-26656}"
ABCI_PORT="${DEVNET_ABCI_PORT:-26658}"
# Each dev account's genesis balance: 1_000_000 NOP.
DEV_BALANCE="1000000nop"
# Deterministic, PUBLIC and therefore insecure dev keys: the secret key of NAME is
# SHA-256("nodeop devnet insecure key: NAME"). Never use them outside a local devnet.
DEV_KEYS=(
  "alice a50d2d6d591cb80120a60eba72b263be6b49b33420ffeba64b92b3a654337a8b"
  "bob 4583b59ba557017e28394ca261d9a913a2bddab8240ca5a9287313d72e4a47ea"
  "carol b486c16e7ab2cc3b122b09f1f1e6f498b753a9833ccab46036c5536b5139afa5"
)

usage() {
  cat <<EOF
Usage: scripts/devnet.sh [--home DIR] [--reset] [--help]

Starts a local single-validator chain '$CHAIN_ID' (blocks about every second, the devnet
parameters of PROTOCOL.md §4: short unbonding, liveness window and epochs) and keeps it in the
foreground; Ctrl-C stops it cleanly (cometbft first, then nodeopd).

The first run creates DIR (default: .devnet in the repository):
  DIR/node/cometbft   the CometBFT home (config, genesis.json, keys, block store)
  DIR/node/app        the nodeopd home (app.toml, state)
  DIR/keyring         the nodeop keyring (nodeop --home DIR) with the dev keys alice, bob
                      and carol, each funded with $DEV_BALANCE in genesis (public, insecure
                      keys: devnet only)
  DIR/logs            nodeopd.log and cometbft.log
Later runs resume the same chain.

Tasks: the one operator (capacity 100 units; its key "operator" is in the CLI home DIR/node)
forms committees of one, so Eventual tasks run here:
  nodeop --home DIR tx task post alice --kind exact --consistency eventual --payload hi --difficulty 1
  nodeop --home DIR/node tx task commit operator ID RESULT   (then: reveal operator ID
  --wait-for-window, confirm operator ID REF)
A Session or Strong task needs 3 or 7 eligible operators and is refused with
not_enough_eligible_operators; scripts/testnet.sh runs 4 validators for those.

Options:
  --home DIR   devnet directory (default: $ROOT/.devnet)
  --reset      delete the devnet directory first and start a new chain from genesis
  -h, --help   show this help

Ports (override with DEVNET_RPC_PORT, DEVNET_P2P_PORT, DEVNET_ABCI_PORT):
  RPC $RPC_PORT, P2P $P2P_PORT, ABCI $ABCI_PORT, all on 127.0.0.1.
Binaries: \${CARGO_TARGET_DIR:-target}/debug/{nodeopd,nodeop} and bin/cometbft; scripts/setup.sh
is run first (it builds whatever changed, and takes a fraction of a second when nothing did).
EOF
}

DEVNET="$ROOT/.devnet"
RESET=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --home)
      [[ $# -ge 2 ]] || { echo "devnet.sh: --home needs a directory" >&2; exit 2; }
      DEVNET="$2"
      shift
      ;;
    --reset) RESET=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "devnet.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '==> %s\n' "$*"; }
die() { printf 'devnet.sh: error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$DEVNET"
DEVNET="$(cd "$DEVNET" && pwd)"
NODE_HOME="$DEVNET/node"
CMT_HOME="$NODE_HOME/cometbft"
KEYRING="$DEVNET/keyring"
LOGS="$DEVNET/logs"
MARKER="$DEVNET/.nodeop-devnet"
RPC="http://127.0.0.1:$RPC_PORT"

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
NODEOPD="$TARGET_DIR/debug/nodeopd"
NODEOP="$TARGET_DIR/debug/nodeop"
COMETBFT="$ROOT/bin/cometbft"

# Always: binaries built from an older checkout would otherwise run against a newer one.
"$ROOT/scripts/setup.sh"
for b in "$NODEOPD" "$NODEOP" "$COMETBFT"; do
  [[ -x "$b" ]] || die "$b is missing after setup"
done

# Our own files only: refuse to wipe a directory that this script did not create.
if [[ "$RESET" == 1 ]]; then
  if [[ -n "$(ls -A "$DEVNET")" && ! -f "$MARKER" ]]; then
    die "$DEVNET is not empty and was not created by devnet.sh; refusing to delete it"
  fi
  say "--reset: deleting $DEVNET"
  rm -rf -- "$DEVNET"
  mkdir -p "$DEVNET"
fi

# The CLI's home is the devnet directory: its keys live in DIR/keyring.
nodeop() { "$NODEOP" --home "$DEVNET" --node "$RPC" "$@"; }

# Reads one field of a JSON object on stdin (python3 is part of the base image; jq is not needed).
json_field() {
  python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[int(k)] if isinstance(v,list) else v[k]
print(v)' "$1"
}

key_address() { nodeop keys show "$1" --address; }

if [[ "$(cat "$MARKER" 2>/dev/null)" != ready ]]; then
  [[ -z "$(ls -A "$DEVNET")" ]] \
    || die "$DEVNET holds no complete devnet (an interrupted first run?); use --reset to start over"
  say "creating chain $CHAIN_ID in $DEVNET"
  mkdir -p "$LOGS"
  echo incomplete >"$MARKER"
  "$NODEOPD" init --home "$NODE_HOME" --chain-id "$CHAIN_ID" --moniker "$MONIKER" \
    --cometbft "$COMETBFT" --devnet --timeout-commit 1s \
    --abci-laddr "tcp://127.0.0.1:$ABCI_PORT" --rpc-laddr "tcp://127.0.0.1:$RPC_PORT" \
    --p2p-laddr "tcp://127.0.0.1:$P2P_PORT" >"$LOGS/init.log" 2>&1 \
    || { cat "$LOGS/init.log" >&2; die "nodeopd init failed"; }
  for entry in "${DEV_KEYS[@]}"; do
    read -r name secret <<<"$entry"
    nodeop keys import "$name" --secret-hex "$secret" >>"$LOGS/init.log"
    "$NODEOPD" genesis add-account --home "$NODE_HOME" "$(key_address "$name")" "$DEV_BALANCE" \
      >>"$LOGS/init.log" 2>&1 || { cat "$LOGS/init.log" >&2; die "genesis add-account failed"; }
  done
  "$NODEOPD" genesis validate --home "$NODE_HOME" >>"$LOGS/init.log" 2>&1 \
    || { cat "$LOGS/init.log" >&2; die "genesis validation failed"; }
  echo ready >"$MARKER"
else
  say "resuming chain $CHAIN_ID in $DEVNET"
fi
mkdir -p "$LOGS"

APP_PID=""
CMT_PID=""

# Sends SIGTERM and waits up to 20 s, then SIGKILL.
stop_pid() {
  local pid="$1" name="$2"
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "devnet.sh: $name did not stop within 20 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

STOPPING=0
stop_all() {
  [[ "$STOPPING" == 0 ]] || return 0
  STOPPING=1
  say "stopping cometbft"
  stop_pid "$CMT_PID" cometbft
  CMT_PID=""
  say "stopping nodeopd"
  stop_pid "$APP_PID" nodeopd
  APP_PID=""
  say "stopped; run scripts/devnet.sh again to resume the chain"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

# The children run in their own sessions, so that Ctrl-C reaches only this script, which then
# stops them in order (cometbft first, so it never sees its app vanish mid-block).
say "starting nodeopd (log: $LOGS/nodeopd.log)"
setsid "$NODEOPD" start --home "$NODE_HOME" >>"$LOGS/nodeopd.log" 2>&1 </dev/null &
APP_PID=$!

# Whether a TCP port listens (read from /proc: a probing connection would look like an ABCI client).
port_listening() {
  awk -v p="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
for _ in $(seq 1 300); do
  port_listening "$ABCI_PORT" && break
  kill -0 "$APP_PID" 2>/dev/null || { tail -n 30 "$LOGS/nodeopd.log" >&2; die "nodeopd exited"; }
  sleep 0.1
done
port_listening "$ABCI_PORT" \
  || die "nodeopd does not listen on port $ABCI_PORT after 30 s; see $LOGS"

say "starting cometbft (log: $LOGS/cometbft.log)"
setsid "$COMETBFT" start --home "$CMT_HOME" >>"$LOGS/cometbft.log" 2>&1 </dev/null &
CMT_PID=$!

height() {
  local status
  status="$(curl -fsS --max-time 2 "$RPC/status" 2>/dev/null)" || return 1
  json_field result.sync_info.latest_block_height <<<"$status" 2>/dev/null
}
say "waiting for the first block"
h=0
for _ in $(seq 1 600); do
  h="$(height || echo 0)"
  [[ "$h" =~ ^[0-9]+$ && "$h" -ge 1 ]] && break
  kill -0 "$APP_PID" 2>/dev/null || { tail -n 30 "$LOGS/nodeopd.log" >&2; die "nodeopd exited"; }
  kill -0 "$CMT_PID" 2>/dev/null || { tail -n 30 "$LOGS/cometbft.log" >&2; die "cometbft exited"; }
  sleep 0.1
done
[[ "$h" =~ ^[0-9]+$ && "$h" -ge 1 ]] || die "no block after 60 s; see $LOGS"

ALICE="$(key_address alice)"
BOB="$(key_address bob)"
CAROL="$(key_address carol)"
cat <<EOF

nodeop devnet '$CHAIN_ID' is running (height $h).

  RPC endpoint   $RPC
  keyring        $KEYRING   (nodeop --home $DEVNET, or export NODEOP_HOME=$DEVNET)
  dev keys       alice  $ALICE
                 bob    $BOB
                 carol  $CAROL
  logs           $LOGS/nodeopd.log
                 $LOGS/cometbft.log

Try, in another terminal:
  export NODEOP_HOME=$DEVNET NODEOP_NODE=$RPC
  $NODEOP keys list
  $NODEOP tx send alice $BOB 1000nop
  $NODEOP query account $BOB --prove
  $NODEOP query supply

Ctrl-C stops the chain; scripts/devnet.sh resumes it, scripts/devnet.sh --reset starts over.
EOF

# Wait until Ctrl-C (the traps stop both) or until one process dies on its own.
set +e
wait -n "$APP_PID" "$CMT_PID"
set -e
if kill -0 "$CMT_PID" 2>/dev/null; then
  echo "devnet.sh: nodeopd exited unexpectedly; last lines of its log:" >&2
  tail -n 30 "$LOGS/nodeopd.log" >&2
else
  echo "devnet.sh: cometbft exited unexpectedly; last lines of its log:" >&2
  tail -n 30 "$LOGS/cometbft.log" >&2
fi
stop_all
exit 1
