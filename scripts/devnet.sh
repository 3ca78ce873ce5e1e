#!/usr/bin/env bash
# One-command local devnet: a single-validator nodeop chain with three funded dev keys.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHAIN_ID="nodeop-devnet"
MONIKER="devnet-validator"
RPC_PORT="${DEVNET_RPC_PORT:-26657}"
P2P_PORT="${DEVNET_P2P_PORT:-26656}"
ABCI_PORT="${DEVNET_ABCI_PORT:-26658}"
# The operator agent's /metrics and /status; coprocessor agent I uses METRICS_PORT + I.
METRICS_PORT="${DEVNET_METRICS_PORT:-9464}"
# What a coprocessor agent gets from alice when it is first registered: its collateral and the
# fees of its bids.
COPROCESSOR_FUNDING="2000nop"
COPROCESSOR_COLLATERAL="1000nop"
COPROCESSOR_CAPACITY=50
# Slots above this difficulty are auctioned to coprocessors (and executed by the operator's
# agent if no coprocessor buys them before the auction expires).
OPERATOR_MAX_DIFFICULTY=10
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
Usage: scripts/devnet.sh [--home DIR] [--reset] [--coprocessors N] [--no-agents] [--help]

Starts a local single-validator chain '$CHAIN_ID' (blocks about every second, the devnet
parameters of PROTOCOL.md §4: short unbonding, liveness window and epochs) with its operator's
agent (nodeop-operator, docs/operator.md), and keeps it in the foreground; Ctrl-C stops it
cleanly (the agents, then cometbft, then nodeopd).

The first run creates DIR (default: .devnet in the repository):
  DIR/node/cometbft   the CometBFT home (config, genesis.json, keys, block store)
  DIR/node/app        the nodeopd home (app.toml, state)
  DIR/keyring         the nodeop keyring (nodeop --home DIR) with the dev keys alice, bob
                      and carol, each funded with $DEV_BALANCE in genesis (public, insecure
                      keys: devnet only)
  DIR/node/operator.toml
                      the operator agent's config (written by nodeop-operator init on the
                      first run; edit it and restart to change executors), its store
                      DIR/node/operator.redb
  DIR/coprocessorI    coprocessor agent I's config and store (--coprocessors)
  DIR/deliveries      what the operator's deliver hook delivered: one file per task
  DIR/logs            nodeopd.log, cometbft.log, operator.log, coprocessorI.log
Later runs resume the same chain.

Tasks: the one operator (capacity 100 units; its key "operator" is in the CLI home DIR/node)
forms committees of one, so Eventual tasks run here. Its agent executes every task assigned
to it (Exact: the payload's SHA-256; Numeric: the payload is the number), commits, reveals
and delivers, so a posted task finishes with no further command:
  nodeop --home DIR tx task post alice --kind exact --consistency eventual --payload hi --difficulty 1
  nodeop --home DIR query task ID          (assigned → finalized → delivered)
A Session or Strong task needs 3 or 7 eligible operators and is refused with
not_enough_eligible_operators; scripts/testnet.sh runs 4 validators for those.

Coprocessors (--coprocessors N): N agents with keys coprocessor1..N (public, insecure, derived
like the dev keys), each funded with $COPROCESSOR_FUNDING by alice and registered with
$COPROCESSOR_COLLATERAL of collateral and $COPROCESSOR_CAPACITY units the first time. The
operator's agent auctions slots of difficulty above $OPERATOR_MAX_DIFFICULTY; a coprocessor
agent buys them, executes and is paid.

Options:
  --home DIR   devnet directory (default: $ROOT/.devnet)
  --reset      delete the devnet directory first and start a new chain from genesis
  --coprocessors N
               also run N coprocessor agents (default 0)
  --no-agents  run no agent at all (every duty is then a nodeop command: tx task commit,
               reveal --wait-for-window, confirm)
  -h, --help   show this help

Ports (override with DEVNET_RPC_PORT, DEVNET_P2P_PORT, DEVNET_ABCI_PORT, DEVNET_METRICS_PORT):
  RPC $RPC_PORT, P2P $P2P_PORT, ABCI $ABCI_PORT, agent metrics $METRICS_PORT (coprocessor I:
  $METRICS_PORT + I), all on 127.0.0.1.
Binaries: \${CARGO_TARGET_DIR:-target}/debug/{nodeopd,nodeop,nodeop-operator} and bin/cometbft; scripts/setup.sh
is run first (it builds whatever changed, and takes a fraction of a second when nothing did).
EOF
}

DEVNET="$ROOT/.devnet"
RESET=0
AGENTS=1
COPROCESSORS=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --home)
      [[ $# -ge 2 ]] || { echo "devnet.sh: --home needs a directory" >&2; exit 2; }
      DEVNET="$2"
      shift
      ;;
    --reset) RESET=1 ;;
    --coprocessors)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || { echo "devnet.sh: --coprocessors needs a number" >&2; exit 2; }
      COPROCESSORS="$2"
      shift
      ;;
    --no-agents) AGENTS=0 ;;
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
OPERATOR="$TARGET_DIR/debug/nodeop-operator"
COMETBFT="$ROOT/bin/cometbft"
[[ "$AGENTS" == 1 || "$COPROCESSORS" == 0 ]] || { echo "devnet.sh: --coprocessors needs the agents" >&2; exit 2; }

# Always: binaries built from an older checkout would otherwise run against a newer one.
"$ROOT/scripts/setup.sh"
for b in "$NODEOPD" "$NODEOP" "$OPERATOR" "$COMETBFT"; do
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
AGENT_PIDS=()

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
  if [[ ${#AGENT_PIDS[@]} -gt 0 ]]; then
    say "stopping the agents"
    local pid
    for pid in "${AGENT_PIDS[@]}"; do stop_pid "$pid" nodeop-operator; done
    AGENT_PIDS=()
  fi
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

# --- the agents ---------------------------------------------------------------------------------
# The deliver hook: the aggregate goes into DIR/deliveries/ID; its reference is that file's name.
DELIVER_COMMAND="d='$DEVNET/deliveries'; mkdir -p \"\$d\" && cat >\"\$d/\$NODEOP_TASK_ID\" && echo \"deliveries/\$NODEOP_TASK_ID\""

# Writes an agent's config with nodeop-operator init on first use; then starts it.
start_agent() {
  local name="$1" dir="$2" key_home="$3" key_name="$4" port="$5"
  shift 5
  mkdir -p "$dir"
  if [[ ! -f "$dir/operator.toml" ]]; then
    "$OPERATOR" init --config "$dir/operator.toml" --rpc "$RPC" --chain-id "$CHAIN_ID" \
      --key-home "$key_home" --key-name "$key_name" --store "$dir/operator.redb" \
      --metrics-listen "127.0.0.1:$port" "$@" >>"$LOGS/init.log" \
      || die "nodeop-operator init for $name failed"
  fi
  say "starting agent $name (log: $LOGS/$name.log, metrics: http://127.0.0.1:$port/metrics)"
  setsid "$OPERATOR" start --config "$dir/operator.toml" >>"$LOGS/$name.log" 2>&1 </dev/null &
  AGENT_PIDS+=($!)
}

# Imports coprocessor I's key, funds and registers it the first time (from alice).
prepare_coprocessor() {
  local name="coprocessor$1" secret
  if ! nodeop keys show "$name" --address >/dev/null 2>&1; then
    secret="$(printf 'nodeop devnet insecure key: %s' "$name" | sha256sum | cut -d' ' -f1)"
    nodeop keys import "$name" --secret-hex "$secret" >>"$LOGS/init.log"
  fi
  if ! nodeop query coprocessor "$name" >/dev/null 2>&1; then
    say "funding and registering $name ($COPROCESSOR_COLLATERAL collateral, $COPROCESSOR_CAPACITY units)"
    nodeop tx send alice "$(key_address "$name")" "$COPROCESSOR_FUNDING" >>"$LOGS/init.log" \
      || die "funding $name failed"
    nodeop tx coprocessor register "$name" --capacity "$COPROCESSOR_CAPACITY" \
      --collateral "$COPROCESSOR_COLLATERAL" --moniker "devnet-$name" >>"$LOGS/init.log" \
      || die "registering $name failed"
  fi
}

if [[ "$AGENTS" == 1 ]]; then
  start_agent operator "$NODE_HOME" "$NODE_HOME" operator "$METRICS_PORT" \
    --max-difficulty-units "$OPERATOR_MAX_DIFFICULTY" --auction 1000000000 1 \
    --deliver-command "$DELIVER_COMMAND"
  for ((i = 1; i <= COPROCESSORS; i++)); do
    prepare_coprocessor "$i"
    start_agent "coprocessor$i" "$DEVNET/coprocessor$i" "$DEVNET" "coprocessor$i" \
      "$((METRICS_PORT + i))" --coprocessor 1 "$COPROCESSOR_CAPACITY"
  done
fi

ALICE="$(key_address alice)"
BOB="$(key_address bob)"
CAROL="$(key_address carol)"
if [[ "$AGENTS" == 1 ]]; then
  AGENT_SUMMARY="operator ($LOGS/operator.log)"
  [[ "$COPROCESSORS" == 0 ]] || AGENT_SUMMARY="$AGENT_SUMMARY and $COPROCESSORS coprocessor(s)"
else
  AGENT_SUMMARY="none (--no-agents)"
fi
cat <<EOF

nodeop devnet '$CHAIN_ID' is running (height $h).

  RPC endpoint   $RPC
  keyring        $KEYRING   (nodeop --home $DEVNET, or export NODEOP_HOME=$DEVNET)
  dev keys       alice  $ALICE
                 bob    $BOB
                 carol  $CAROL
  logs           $LOGS/nodeopd.log
                 $LOGS/cometbft.log
  agents         $AGENT_SUMMARY

Try, in another terminal:
  export NODEOP_HOME=$DEVNET NODEOP_NODE=$RPC
  $NODEOP keys list
  $NODEOP tx send alice $BOB 1000nop
  $NODEOP query account $BOB --prove
  $NODEOP query supply
  $NODEOP tx task post alice --kind exact --consistency eventual --payload hi --difficulty 1
  $NODEOP query task ID          (the agent finishes it: finalized, then delivered)
  $OPERATOR status --config $NODE_HOME/operator.toml

Ctrl-C stops the chain; scripts/devnet.sh resumes it, scripts/devnet.sh --reset starts over.
EOF

# Wait until Ctrl-C (the traps stop everything) or until one process dies on its own.
set +e
wait -n "$APP_PID" "$CMT_PID" "${AGENT_PIDS[@]}"
set -e
dead_agent=""
for pid in "${AGENT_PIDS[@]}"; do
  kill -0 "$pid" 2>/dev/null || dead_agent="$pid"
done
if [[ -n "$dead_agent" ]] && kill -0 "$APP_PID" 2>/dev/null && kill -0 "$CMT_PID" 2>/dev/null; then
  echo "devnet.sh: an agent (pid $dead_agent) exited unexpectedly; see $LOGS" >&2
  tail -n 30 "$LOGS"/operator.log "$LOGS"/coprocessor*.log 2>/dev/null >&2
elif kill -0 "$CMT_PID" 2>/dev/null; then
  echo "devnet.sh: nodeopd exited unexpectedly; last lines of its log:" >&2
  tail -n 30 "$LOGS/nodeopd.log" >&2
else
  echo "devnet.sh: cometbft exited unexpectedly; last lines of its log:" >&2
  tail -n 30 "$LOGS/cometbft.log" >&2
fi
stop_all
exit 1
