#!/usr/bin/env bash
# A local multi-validator nodeop testnet on loopback: N validators, each its own cometbft and
# nodeopd, one shared genesis, persistent peers between them, devnet staking params.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHAIN_ID="nodeop-testnet"
# Every validator's genesis self-bond (its voting power is the bond in NOP) and account balance.
SELF_BOND="10000nop"
OPERATOR_BALANCE="10000nop"
# Each dev account's genesis balance: 1_000_000 NOP.
DEV_BALANCE="1000000nop"
# A coprocessor agent (start --coprocessors N) gets this from alice when it is first registered,
# and registers with this collateral and capacity.
COPROCESSOR_FUNDING="2000nop"
COPROCESSOR_COLLATERAL="1000nop"
COPROCESSOR_CAPACITY=50
# Every validator takes a state sync snapshot every this many heights (app.toml [state_sync]).
SNAPSHOT_INTERVAL=50
# An operator agent auctions slots above this difficulty (and executes them itself if no
# coprocessor buys them).
OPERATOR_MAX_DIFFICULTY=10
# The same deterministic, PUBLIC and therefore insecure dev keys as scripts/devnet.sh: the secret
# key of NAME is SHA-256("nodeop devnet insecure key: NAME"). Never use them outside a testnet.
DEV_KEYS=(
  "alice a50d2d6d591cb80120a60eba72b263be6b49b33420ffeba64b92b3a654337a8b"
  "bob 4583b59ba557017e28394ca261d9a913a2bddab8240ca5a9287313d72e4a47ea"
  "carol b486c16e7ab2cc3b122b09f1f1e6f498b753a9833ccab46036c5536b5139afa5"
)

usage() {
  cat <<EOF
Usage: scripts/testnet.sh [--dir DIR] COMMAND [ARGS]

A local nodeop testnet '$CHAIN_ID' of N validators on 127.0.0.1, each a cometbft and a nodeopd
process in the background, with devnet staking params (liveness window 100 blocks, at least 50 %
signed, downtime jail 20 s) and short blocks. Each validator runs its operator agent
(nodeop-operator, docs/operator.md), which serves every task duty by itself.

Commands:
  start [--nodes N] [--reset] [--base-port P] [--timeout-commit D] [--sla-period-epochs E]
        [--coprocessors N] [--no-agents]
              create the testnet on first use (N validators, default 4; blocks every D, a Go
              duration, default 500ms), then start every node that is not running and wait
              for the first blocks, then every agent that is not running: one per operator,
              and --coprocessors N coprocessor agents (keys coprocessor1..N in DIR/client,
              funded with $COPROCESSOR_FUNDING by alice and registered with
              $COPROCESSOR_COLLATERAL collateral the first time; the number is kept for later
              starts). --no-agents starts none (every duty is then a nodeop command).
              --reset stops and deletes an existing testnet first.
              --nodes, --base-port, --timeout-commit and --sla-period-epochs only apply when
              the testnet is created.
              --sla-period-epochs E sets the downtime SLA period (slashing's
              downtime_period_epochs; devnet: 3 epochs of 10 s). With the devnet value, a node
              stopped for a whole period loses its stake to the SLA (2 % per point of uptime
              below 95 %, capped at 100 %) once the 30 s dispute window passes, which is sooner
              than liveness jails it (100 blocks); e.g. 1000000 keeps the SLA out of the way to
              watch jailing and unjail.
  join-statesync (or --join-statesync)
              add a full node (the next index) that joins the running testnet by state sync:
              it trusts node0's header at node0's newest snapshot height, fetches that snapshot
              from the validators (each takes one every $SNAPSHOT_INTERVAL heights), checks
              every chunk and the rebuilt app hash, then executes the blocks after it. It is
              started and stopped with the others (start, stop, kill-node I, start-node I).
              docs/operations.md
  stop        stop every agent, then every node cleanly: all cometbft processes first, then
              all nodeopd
  status      per node: processes, height, app hash, peers, voting power; the validator set;
              per agent: process, last height processed, duties pending, done and missed
  stop-node I stop node I cleanly (its agent, cometbft, then nodeopd)
  kill-node I [--app-only]
              kill -9 both processes of node I (with --app-only: its nodeopd only; its
              cometbft then exits on its own once it notices, or is stopped by start-node)
  start-node I
              start whatever of node I is not running (nodeopd first, then cometbft, then
              its agent unless --no-agents was given at start)
  kill-agent NAME
              kill -9 an agent (nodeI or coprocessorJ): a crash; start-agent NAME restarts
              it and it catches up from its store
  start-agent NAME
              start the agent NAME if it is not running
  logs I [--app | --cometbft | --agent] [-f]
              the last lines of node I's logs (-f: follow)

Options:
  --dir DIR   testnet directory (default: $ROOT/.testnet, or \$TESTNET_DIR)
  -h, --help  show this help

Ports: node I uses P+10·I (P2P), P+10·I+1 (RPC), P+10·I+2 (ABCI) and P+10·I+3 (its agent's
/metrics and /status); coprocessor agent J uses P+200+J; P is the base port (--base-port, or
\$TESTNET_BASE_PORT, default 36600).

Layout of DIR:
  testnet.env         the chain's settings (nodes, base port)
  nodeI/              nodeopd home of node I (nodeI/cometbft is its CometBFT home); the
                      validators are 0..N-1, full nodes added by join-statesync follow
  nodeI/client        nodeop CLI home holding node I's operator key 'operator':
                        nodeop --home DIR/nodeI/client --node http://127.0.0.1:RPC \\
                          tx staking unjail operator
  client              nodeop CLI home with the dev keys alice, bob and carol, each funded
                      with $DEV_BALANCE (public, insecure keys: testnet only)
  nodeI/operator.toml node I's agent config (nodeop-operator init, first start), its store
                      nodeI/operator.redb
  coprocessorJ/       coprocessor agent J's config and store
  deliveries/         what the agents' deliver hooks delivered: one file per task
  logs/nodeI.{nodeopd,cometbft,init,agent}.log, logs/coprocessorJ.agent.log
  pids/nodeI.{nodeopd,cometbft,agent}.pid, pids/coprocessorJ.agent.pid

Tasks: every operator offers 100 units of capacity, so Session tasks (committees of 3) are
assigned, and the members' agents execute (Exact: the payload's SHA-256; Numeric: the payload
is the number), commit, reveal and deliver with no further command:
  nodeop --home DIR/client --node RPC0 tx task post alice --kind exact --consistency session \
    --payload hi --difficulty 1
  nodeop --home DIR/client --node RPC0 query task ID       (assigned → finalized → delivered)
Without agents (--no-agents) each member does it with its own home and node:
  nodeop --home DIR/nodeI/client --node RPCI tx task commit operator ID RESULT
  nodeop --home DIR/nodeI/client --node RPCI tx task reveal operator ID --wait-for-window
  nodeop --home DIR/nodeI/client --node RPCI tx task confirm operator ID REF   (window 0's member)
The commit, reveal and submission windows are 10, 10 and 5 blocks (5, 5 and 2.5 s at 500 ms).

Binaries: \${CARGO_TARGET_DIR:-target}/debug/{nodeopd,nodeop,nodeop-operator} and bin/cometbft; scripts/setup.sh
is run first (it builds whatever changed, and takes a fraction of a second when nothing did).
EOF
}

say() { printf '==> %s\n' "$*"; }
die() { printf 'testnet.sh: error: %s\n' "$*" >&2; exit 1; }

TESTNET="${TESTNET_DIR:-$ROOT/.testnet}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir)
      [[ $# -ge 2 ]] || die "--dir needs a directory"
      TESTNET="$2"
      shift 2
      ;;
    -h | --help) usage; exit 0 ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || { usage >&2; exit 2; }
COMMAND="$1"
shift

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
NODEOPD="$TARGET_DIR/debug/nodeopd"
NODEOP="$TARGET_DIR/debug/nodeop"
OPERATOR="$TARGET_DIR/debug/nodeop-operator"
COMETBFT="$ROOT/bin/cometbft"
ENV_FILE="$TESTNET/testnet.env"
MARKER="$TESTNET/.nodeop-testnet"

ensure_binaries() {
  # always: binaries built from an older checkout would otherwise run against a newer one
  "$ROOT/scripts/setup.sh"
  for b in "$NODEOPD" "$NODEOP" "$OPERATOR" "$COMETBFT"; do
    [[ -x "$b" ]] || die "$b is missing after setup"
  done
}

# Reads one field of a JSON document on stdin (python3 is part of the base image; jq is not).
json_field() {
  python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[int(k)] if isinstance(v,list) else v[k]
print(v)' "$1"
}

load_env() {
  [[ -f "$ENV_FILE" ]] || die "no testnet in $TESTNET; run: scripts/testnet.sh start"
  AGENTS=1
  COPROCESSORS=0
  FULL_NODES=0
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  ALL_NODES=$((NODES + FULL_NODES))
}

save_env() {
  printf 'NODES=%d\nBASE_PORT=%d\nAGENTS=%d\nCOPROCESSORS=%d\nFULL_NODES=%d\n' "$NODES" \
    "$BASE_PORT" "$AGENTS" "$COPROCESSORS" "$FULL_NODES" >"$ENV_FILE"
}

node_home() { echo "$TESTNET/node$1"; }
p2p_port() { echo $((BASE_PORT + 10 * $1)); }
rpc_port() { echo $((BASE_PORT + 10 * $1 + 1)); }
abci_port() { echo $((BASE_PORT + 10 * $1 + 2)); }
pid_file() { echo "$TESTNET/pids/node$1.$2.pid"; }
log_file() { echo "$TESTNET/logs/node$1.$2.log"; }

check_index() {
  [[ "$1" =~ ^[0-9]+$ && "$1" -lt "$ALL_NODES" ]] \
    || die "no node '$1': nodes are 0..$((ALL_NODES - 1))"
}

# The pid of node I's PROCESS (nodeopd or cometbft) if it runs: the pid file's process must
# still be that binary with that node's home on its command line (a recycled pid is not ours).
running_pid() {
  local file pid cmdline
  file="$(pid_file "$1" "$2")"
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 1
  local home
  home="$(node_home "$1")"
  [[ "$2" == nodeopd ]] || home="$home/cometbft"
  [[ "$cmdline" == *"$2 start --home $home " ]] || return 1
  echo "$pid"
}

# Whether a TCP port listens (from /proc: a probing connection would look like an ABCI client).
port_listening() {
  awk -v p="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# --- agents: nodeI (node I's operator) and coprocessorJ -----------------------------------------
agent_names() {
  local i
  if [[ "$AGENTS" == 1 ]]; then
    for ((i = 0; i < NODES; i++)); do echo "node$i"; done
    for ((i = 1; i <= COPROCESSORS; i++)); do echo "coprocessor$i"; done
  fi
}
check_agent() {
  [[ "$1" =~ ^node([0-9]+)$ && "${BASH_REMATCH[1]}" -lt "$NODES" ]] && return 0
  [[ "$1" =~ ^coprocessor([0-9]+)$ && "${BASH_REMATCH[1]}" -ge 1 \
    && "${BASH_REMATCH[1]}" -le "$COPROCESSORS" ]] && return 0
  die "no agent '$1': agents are node0..node$((NODES - 1)) and coprocessor1..coprocessor$COPROCESSORS"
}
# nodeI's agent lives in node I's home, coprocessorJ's in DIR/coprocessorJ.
agent_dir() { echo "$TESTNET/$1"; }
agent_port() {
  if [[ "$1" =~ ^node([0-9]+)$ ]]; then echo $((BASE_PORT + 10 * BASH_REMATCH[1] + 3)); else
    [[ "$1" =~ ^coprocessor([0-9]+)$ ]] && echo $((BASE_PORT + 200 + BASH_REMATCH[1]))
  fi
}
agent_pid_file() { echo "$TESTNET/pids/$1.agent.pid"; }
agent_log() { echo "$TESTNET/logs/$1.agent.log"; }

# The pid of agent NAME if it runs (its pid file's process is nodeop-operator with its config).
agent_pid() {
  local file pid cmdline
  file="$(agent_pid_file "$1")"
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 1
  [[ "$cmdline" == *"nodeop-operator start --config $(agent_dir "$1")/operator.toml "* ]] \
    || return 1
  echo "$pid"
}

# Coprocessor J's key in DIR/client, funded and registered the first time (from alice).
prepare_coprocessor() {
  local name="$1" secret cli=("$NODEOP" --home "$TESTNET/client" --node "http://127.0.0.1:$(rpc_port 0)")
  if ! "${cli[@]}" keys show "$name" --address >/dev/null 2>&1; then
    secret="$(printf 'nodeop devnet insecure key: %s' "$name" | sha256sum | cut -d' ' -f1)"
    "${cli[@]}" keys import "$name" --secret-hex "$secret" >>"$(agent_log "$name")"
  fi
  if ! "${cli[@]}" query coprocessor "$name" >/dev/null 2>&1; then
    say "$name: funding and registering ($COPROCESSOR_COLLATERAL collateral, $COPROCESSOR_CAPACITY units)"
    "${cli[@]}" tx send alice "$("${cli[@]}" keys show "$name" --address)" "$COPROCESSOR_FUNDING" \
      >>"$(agent_log "$name")" 2>&1 || die "funding $name failed; see $(agent_log "$name")"
    "${cli[@]}" tx coprocessor register "$name" --capacity "$COPROCESSOR_CAPACITY" \
      --collateral "$COPROCESSOR_COLLATERAL" --moniker "testnet-$name" >>"$(agent_log "$name")" \
      2>&1 || die "registering $name failed; see $(agent_log "$name")"
  fi
}

start_agent() {
  local name="$1" dir config port rpc i
  agent_pid "$name" >/dev/null && return 0
  dir="$(agent_dir "$name")"
  config="$dir/operator.toml"
  port="$(agent_port "$name")"
  mkdir -p "$dir" "$TESTNET/deliveries"
  if [[ ! -f "$config" ]]; then
    local role=()
    if [[ "$name" =~ ^node([0-9]+)$ ]]; then
      i="${BASH_REMATCH[1]}"
      rpc="http://127.0.0.1:$(rpc_port "$i")"
      local d="$TESTNET/deliveries"
      role=(--key-home "$dir/client" --key-name operator
        --max-difficulty-units "$OPERATOR_MAX_DIFFICULTY" --auction 1000000000 1
        --deliver-command "cat >'$d'/\"\$NODEOP_TASK_ID\" && echo \"deliveries/\$NODEOP_TASK_ID\"")
    else
      rpc="http://127.0.0.1:$(rpc_port 0)"
      prepare_coprocessor "$name"
      role=(--key-home "$TESTNET/client" --key-name "$name" --coprocessor 1 "$COPROCESSOR_CAPACITY")
    fi
    "$OPERATOR" init --config "$config" --rpc "$rpc" --chain-id "$CHAIN_ID" \
      --store "$dir/operator.redb" --metrics-listen "127.0.0.1:$port" "${role[@]}" \
      >>"$(agent_log "$name")" || die "nodeop-operator init for $name failed"
  fi
  setsid "$OPERATOR" start --config "$config" >>"$(agent_log "$name")" 2>&1 </dev/null &
  echo $! >"$(agent_pid_file "$name")"
  say "agent $name: pid $!, metrics http://127.0.0.1:$port/metrics, log $(agent_log "$name")"
}

stop_agent() {
  local pid
  pid="$(agent_pid "$1")" || { rm -f "$(agent_pid_file "$1")"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  rm -f "$(agent_pid_file "$1")"
}

kill_agent() {
  local pid
  pid="$(agent_pid "$1")" || die "agent $1 is not running"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$(agent_pid_file "$1")"
  say "agent $1 (pid $pid) killed with SIGKILL"
}

agents_status() {
  local name pid report
  [[ "$AGENTS" == 1 ]] || { echo "agents: none (--no-agents)"; return 0; }
  printf '%-14s %-9s %8s %8s %6s %6s  %s\n' agent pid height pending done missed connection
  while read -r name; do
    pid="$(agent_pid "$name" || echo down)"
    report="$(curl -fsS --max-time 2 "http://127.0.0.1:$(agent_port "$name")/status" 2>/dev/null)" \
      || report=""
    python3 -c 'import json,sys
r = json.loads(sys.argv[3]) if sys.argv[3] else {}
print("%-14s %-9s %8s %8s %6s %6s  %s" % (sys.argv[1], sys.argv[2], r.get("last_height", "-"),
      r.get("pending", "-"), r.get("done", "-"), r.get("missed", "-"), r.get("connection", "-")))' \
      "$name" "$pid" "$report"
  done < <(agent_names)
}

operator_of() { "$NODEOP" --home "$(node_home "$1")/client" keys show operator --address; }

rpc_get() { curl -fsS --max-time 3 "http://127.0.0.1:$(rpc_port "$1")$2" 2>/dev/null; }

height_of() {
  local status
  status="$(rpc_get "$1" /status)" || { echo 0; return 0; }
  json_field result.sync_info.latest_block_height <<<"$status" 2>/dev/null || echo 0
}

# SIGTERM, then SIGKILL after 20 s.
stop_process() {
  local i="$1" name="$2" pid
  pid="$(running_pid "$i" "$name")" || { rm -f "$(pid_file "$i" "$name")"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "testnet.sh: node$i's $name did not stop within 20 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$i" "$name")"
}

kill_process() {
  local i="$1" name="$2" pid
  pid="$(running_pid "$i" "$name")" || { rm -f "$(pid_file "$i" "$name")"; return 0; }
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$(pid_file "$i" "$name")"
  say "node$i: $name (pid $pid) killed with SIGKILL"
}

create() {
  local nodes="$1" base="$2" timeout_commit="$3" sla_period="$4"
  [[ "$nodes" =~ ^[0-9]+$ && "$nodes" -ge 1 && "$nodes" -le 20 ]] || die "--nodes must be 1..20"
  [[ "$base" =~ ^[0-9]+$ && "$base" -ge 1024 && $((base + 10 * nodes)) -le 65535 ]] \
    || die "--base-port $base leaves no room for $nodes nodes"
  [[ -z "$(ls -A "$TESTNET" 2>/dev/null)" ]] || die "$TESTNET is not empty"
  say "creating chain $CHAIN_ID with $nodes validators in $TESTNET"
  mkdir -p "$TESTNET/logs" "$TESTNET/pids"
  echo incomplete >"$MARKER"
  NODES="$nodes"
  BASE_PORT="$base"
  local i home init_log
  for ((i = 0; i < nodes; i++)); do
    home="$(node_home "$i")"
    init_log="$(log_file "$i" init)"
    "$NODEOPD" init --home "$home" --chain-id "$CHAIN_ID" --moniker "node$i" --devnet \
      --client-home "$home/client" --cometbft "$COMETBFT" --timeout-commit "$timeout_commit" \
      --self-bond "$SELF_BOND" --operator-balance "$OPERATOR_BALANCE" \
      --abci-laddr "tcp://127.0.0.1:$(abci_port "$i")" \
      --rpc-laddr "tcp://127.0.0.1:$(rpc_port "$i")" \
      --p2p-laddr "tcp://127.0.0.1:$(p2p_port "$i")" >"$init_log" 2>&1 \
      || { cat "$init_log" >&2; die "nodeopd init of node$i failed"; }
    # every validator serves state sync snapshots (join-statesync)
    sed -i "s/^snapshot_interval = .*/snapshot_interval = $SNAPSHOT_INTERVAL/" "$home/app/app.toml"
  done

  # node0's genesis becomes everyone's: node0 is in it already; add the others' consensus keys
  # and operators, fund their accounts and the dev keys.
  local home0 genesis_log operator
  home0="$(node_home 0)"
  genesis_log="$(log_file 0 init)"
  for ((i = 1; i < nodes; i++)); do
    home="$(node_home "$i")"
    operator="$("$NODEOP" --home "$home/client" keys show operator --address)"
    "$NODEOPD" genesis add-validator --home "$home0" \
      --key-file "$home/cometbft/config/priv_validator_key.json" --operator "$operator" \
      --self-bond "$SELF_BOND" --moniker "node$i" >>"$genesis_log" 2>&1 \
      || { cat "$genesis_log" >&2; die "genesis add-validator of node$i failed"; }
    "$NODEOPD" genesis add-account --home "$home0" "$operator" "$OPERATOR_BALANCE" \
      >>"$genesis_log" 2>&1 || { cat "$genesis_log" >&2; die "genesis add-account failed"; }
  done
  local entry name secret
  for entry in "${DEV_KEYS[@]}"; do
    read -r name secret <<<"$entry"
    "$NODEOP" --home "$TESTNET/client" keys import "$name" --secret-hex "$secret" \
      >>"$genesis_log"
    "$NODEOPD" genesis add-account --home "$home0" \
      "$("$NODEOP" --home "$TESTNET/client" keys show "$name" --address)" "$DEV_BALANCE" \
      >>"$genesis_log" 2>&1 || { cat "$genesis_log" >&2; die "genesis add-account failed"; }
  done
  if [[ -n "$sla_period" ]]; then
    python3 - "$home0/cometbft/config/genesis.json" "$sla_period" <<'PY'
import json, sys
path, epochs = sys.argv[1], int(sys.argv[2])
with open(path) as f:
    genesis = json.load(f)
genesis["app_state"]["slashing"]["params"]["downtime_period_epochs"] = epochs
with open(path, "w") as f:
    json.dump(genesis, f, indent=2)
PY
  fi
  "$NODEOPD" genesis validate --home "$home0" >>"$genesis_log" 2>&1 \
    || { cat "$genesis_log" >&2; die "genesis validation failed"; }

  # One genesis everywhere; every node keeps a persistent connection to every other.
  local peers=() j config list
  for ((i = 0; i < nodes; i++)); do
    peers+=("$("$COMETBFT" show-node-id --home "$(node_home "$i")/cometbft")@127.0.0.1:$(p2p_port "$i")")
  done
  for ((i = 0; i < nodes; i++)); do
    home="$(node_home "$i")"
    if [[ "$i" -ne 0 ]]; then
      cp "$home0/cometbft/config/genesis.json" "$home/cometbft/config/genesis.json"
    fi
    list=""
    for ((j = 0; j < nodes; j++)); do
      [[ "$j" -eq "$i" ]] || list="${list:+$list,}${peers[$j]}"
    done
    config="$home/cometbft/config/config.toml"
    grep -q '^persistent_peers = ' "$config" || die "$config has no persistent_peers key"
    sed -i "s|^persistent_peers = .*|persistent_peers = \"$list\"|" "$config"
  done
  AGENTS=1
  COPROCESSORS=0
  FULL_NODES=0
  save_env
  echo ready >"$MARKER"
}

start_node() {
  local i="$1" home pid port
  home="$(node_home "$i")"
  if ! running_pid "$i" nodeopd >/dev/null; then
    # A cometbft whose app is gone cannot go on; restart it with its app.
    stop_process "$i" cometbft
    # setsid: the node outlives this script and a Ctrl-C in this terminal.
    setsid "$NODEOPD" start --home "$home" >>"$(log_file "$i" nodeopd)" 2>&1 </dev/null &
    echo $! >"$(pid_file "$i" nodeopd)"
    port="$(abci_port "$i")"
    for _ in $(seq 1 300); do
      port_listening "$port" && break
      running_pid "$i" nodeopd >/dev/null \
        || { tail -n 30 "$(log_file "$i" nodeopd)" >&2; die "node$i: nodeopd exited"; }
      sleep 0.1
    done
    port_listening "$port" || die "node$i: nodeopd does not listen on $port after 30 s"
  fi
  if ! running_pid "$i" cometbft >/dev/null; then
    setsid "$COMETBFT" start --home "$home/cometbft" >>"$(log_file "$i" cometbft)" 2>&1 \
      </dev/null &
    echo $! >"$(pid_file "$i" cometbft)"
  fi
  say "node$i: nodeopd pid $(cat "$(pid_file "$i" nodeopd)"), cometbft pid" \
    "$(cat "$(pid_file "$i" cometbft)"), RPC http://127.0.0.1:$(rpc_port "$i")"
}

# Waits until node I reports a height above FROM.
wait_block() {
  local i="$1" from="$2" h
  for _ in $(seq 1 900); do
    h="$(height_of "$i")"
    [[ "$h" =~ ^[0-9]+$ && "$h" -gt "$from" ]] && { echo "$h"; return 0; }
    running_pid "$i" cometbft >/dev/null \
      || { tail -n 30 "$(log_file "$i" cometbft)" >&2; die "node$i: cometbft exited"; }
    sleep 0.2
  done
  die "node$i: no block above $from after 180 s; see $TESTNET/logs"
}

cmd_start() {
  local nodes=4 reset=0 base="${TESTNET_BASE_PORT:-36600}" timeout_commit="500ms" sla_period=""
  local coprocessors="" agents=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --nodes) [[ $# -ge 2 ]] || die "--nodes needs a number"; nodes="$2"; shift ;;
      --base-port) [[ $# -ge 2 ]] || die "--base-port needs a port"; base="$2"; shift ;;
      --timeout-commit)
        [[ $# -ge 2 ]] || die "--timeout-commit needs a duration"
        timeout_commit="$2"
        shift
        ;;
      --sla-period-epochs)
        [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || die "--sla-period-epochs needs a positive number"
        sla_period="$2"
        shift
        ;;
      --coprocessors)
        [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || die "--coprocessors needs a number"
        coprocessors="$2"
        shift
        ;;
      --no-agents) agents=0 ;;
      --reset) reset=1 ;;
      *) die "start: unknown argument: $1 (see --help)" ;;
    esac
    shift
  done
  ensure_binaries
  mkdir -p "$TESTNET"
  TESTNET="$(cd "$TESTNET" && pwd)"
  ENV_FILE="$TESTNET/testnet.env"
  MARKER="$TESTNET/.nodeop-testnet"
  if [[ "$reset" == 1 && -n "$(ls -A "$TESTNET")" ]]; then
    # Our own files only: refuse to wipe a directory this script did not create.
    [[ -f "$MARKER" ]] \
      || die "$TESTNET is not empty and was not created by testnet.sh; refusing to delete it"
    if [[ -f "$ENV_FILE" ]]; then cmd_stop; fi
    say "--reset: deleting $TESTNET"
    rm -rf -- "$TESTNET"
    mkdir -p "$TESTNET"
  fi
  if [[ "$(cat "$MARKER" 2>/dev/null)" != ready ]]; then
    [[ -z "$(ls -A "$TESTNET")" ]] \
      || die "$TESTNET holds no complete testnet (an interrupted first run?); use --reset"
    create "$nodes" "$base" "$timeout_commit" "$sla_period"
  else
    say "resuming chain $CHAIN_ID in $TESTNET"
  fi
  load_env
  mkdir -p "$TESTNET/logs" "$TESTNET/pids"
  local i
  for ((i = 0; i < ALL_NODES; i++)); do
    start_node "$i"
  done
  say "waiting for blocks"
  local h
  h="$(wait_block 0 0)"
  wait_block 0 "$h" >/dev/null
  [[ -z "$coprocessors" ]] || COPROCESSORS="$coprocessors"
  [[ -z "$agents" ]] || AGENTS="$agents"
  [[ "$AGENTS" == 1 || "$COPROCESSORS" == 0 ]] || die "--coprocessors needs the agents"
  save_env
  local name
  while read -r name; do start_agent "$name"; done < <(agent_names)
  cmd_status
  local SELF="scripts/testnet.sh"
  [[ "$TESTNET" == "$ROOT/.testnet" ]] || SELF="scripts/testnet.sh --dir $TESTNET"
  cat <<EOF

Try:
  $NODEOP --home $TESTNET/client --node http://127.0.0.1:$(rpc_port 0) tx task post alice \\
    --kind exact --consistency session --payload hi --difficulty 1
  $NODEOP --home $TESTNET/client --node http://127.0.0.1:$(rpc_port 0) query task ID
  $NODEOP --home $TESTNET/client --node http://127.0.0.1:$(rpc_port 0) tx send alice bob 1000nop
  $NODEOP --home $TESTNET/client --node http://127.0.0.1:$(rpc_port 0) query staking operators
  $SELF kill-node $((NODES - 1)); $SELF status; $SELF start-node $((NODES - 1))
  $SELF stop
EOF
}

cmd_stop() {
  load_env
  local i name
  say "stopping the agents"
  for name in $(AGENTS=1 agent_names); do stop_agent "$name"; done
  say "stopping cometbft"
  for ((i = 0; i < ALL_NODES; i++)); do stop_process "$i" cometbft; done
  say "stopping nodeopd"
  for ((i = 0; i < ALL_NODES; i++)); do stop_process "$i" nodeopd; done
  say "stopped; scripts/testnet.sh start resumes the chain"
}

cmd_status() {
  load_env
  local i j app cmt status h hash peers power operators="" staking
  # The operators' staking status (bonded, inactive, jailed, tombstoned) from any node that answers.
  for ((i = 0; i < NODES; i++)); do
    operators="$(rpc_get "$i" '/abci_query?path=%22/staking/operators%22' \
      | json_field result.response.value 2>/dev/null | base64 -d 2>/dev/null)" && break
  done
  printf '%-6s %-9s %-9s %8s  %-64s %5s %7s  %s\n' node nodeopd cometbft height "app hash" peers \
    power staking
  for ((i = 0; i < ALL_NODES; i++)); do
    app="$(running_pid "$i" nodeopd || echo down)"
    cmt="$(running_pid "$i" cometbft || echo down)"
    h="-" hash="-" peers="-" power="-"
    if status="$(rpc_get "$i" /status)"; then
      h="$(json_field result.sync_info.latest_block_height <<<"$status")"
      hash="$(json_field result.sync_info.latest_app_hash <<<"$status")"
      power="$(json_field result.validator_info.voting_power <<<"$status")"
      peers="$(rpc_get "$i" /net_info | json_field result.n_peers 2>/dev/null || echo '?')"
    fi
    staking="$(python3 -c 'import json,sys
items = json.loads(sys.argv[1] or "{}").get("items", [])
print(next((o["status"] for o in items if o["address"] == sys.argv[2]), "-"))' "$operators" \
      "$(operator_of "$i")" 2>/dev/null || echo '?')"
    printf '%-6s %-9s %-9s %8s  %-64s %5s %7s  %s\n' "node$i" "$app" "$cmt" "$h" "$hash" "$peers" \
      "$power" "$staking"
  done
  # Whether the nodes agree: the app hash each has for the lowest height all of them reached
  # (block H+1's header holds the state after block H).
  local common="" answered=() hashes=()
  for ((i = 0; i < ALL_NODES; i++)); do
    h="$(height_of "$i")"
    [[ "$h" =~ ^[0-9]+$ && "$h" -gt 1 ]] || continue
    answered+=("$i")
    if [[ -z "$common" || "$h" -lt "$common" ]]; then common="$h"; fi
  done
  if [[ -n "$common" ]]; then
    for i in "${answered[@]}"; do
      hashes+=("$(rpc_get "$i" "/block?height=$common" \
        | json_field result.block.header.app_hash 2>/dev/null || echo '?')")
    done
    if [[ "$(printf '%s\n' "${hashes[@]}" | sort -u | wc -l)" == 1 ]]; then
      echo "app hash in block $common: ${hashes[0]} on nodes ${answered[*]}"
    else
      echo "app hashes in block $common DIFFER:"
      for ((j = 0; j < ${#answered[@]}; j++)); do
        echo "  node${answered[$j]}  ${hashes[$j]}"
      done
    fi
  fi
  for ((i = 0; i < NODES; i++)); do
    if status="$(rpc_get "$i" /validators)"; then
      echo "validator set (CometBFT /validators, from node$i):"
      python3 -c 'import json,sys
for v in json.load(sys.stdin)["result"]["validators"]:
    print("  %s  power %s" % (v["address"], v["voting_power"]))' <<<"$status"
      break
    fi
  done
  agents_status
}

cmd_node() {
  local action="$1" i="$2"
  shift 2
  load_env
  check_index "$i"
  case "$action" in
    stop-node)
      [[ $# -eq 0 ]] || die "stop-node: unexpected argument: $1"
      stop_agent "node$i"
      stop_process "$i" cometbft
      stop_process "$i" nodeopd
      say "node$i stopped"
      ;;
    kill-node)
      local app_only=0
      while [[ $# -gt 0 ]]; do
        case "$1" in
          --app-only) app_only=1 ;;
          *) die "kill-node: unknown argument: $1" ;;
        esac
        shift
      done
      if [[ "$app_only" == 0 ]]; then kill_process "$i" cometbft; fi
      kill_process "$i" nodeopd
      ;;
    start-node)
      [[ $# -eq 0 ]] || die "start-node: unexpected argument: $1"
      ensure_binaries
      start_node "$i"
      if [[ "$AGENTS" == 1 && "$i" -lt "$NODES" ]]; then start_agent "node$i"; fi
      ;;
    logs)
      local which=(nodeopd cometbft) follow=0 files=()
      while [[ $# -gt 0 ]]; do
        case "$1" in
          --app) which=(nodeopd) ;;
          --cometbft) which=(cometbft) ;;
          --agent) which=(agent) ;;
          -f | --follow) follow=1 ;;
          *) die "logs: unknown argument: $1" ;;
        esac
        shift
      done
      local w
      for w in "${which[@]}"; do files+=("$(log_file "$i" "$w")"); done
      if [[ "$follow" == 1 ]]; then exec tail -n 40 -F "${files[@]}"; fi
      tail -n 40 "${files[@]}"
      ;;
  esac
}

# A non-validator node that joins the running testnet by state sync: it trusts a recent header of
# node0, fetches the newest snapshot from the validators and executes blocks from there on.
cmd_join_statesync() {
  [[ $# -eq 0 ]] || die "join-statesync: unexpected argument: $1"
  load_env
  ensure_binaries
  local i home init_log rpc0 snapshot trust_hash peers=() j config timeout_commit rpcs
  i="$ALL_NODES"
  home="$(node_home "$i")"
  rpc0="$(rpc_port 0)"
  snapshot="$(find "$(node_home 0)/app/data/snapshots" -mindepth 1 -maxdepth 1 -name '[0-9]*' \
    -printf '%f\n' 2>/dev/null | sort -n | tail -n 1)"
  [[ -n "$snapshot" ]] || die "node0 has no snapshot yet: validators take one every \
$SNAPSHOT_INTERVAL heights (app.toml [state_sync] snapshot_interval; a testnet created before \
state sync has 0 there: set it on the validators and restart them)"
  snapshot=$((10#$snapshot))
  trust_hash="$(rpc_get 0 "/block?height=$snapshot" | json_field result.block_id.hash)" \
    || die "node0's RPC does not answer /block?height=$snapshot"
  timeout_commit="$(sed -n 's/^timeout_commit = "\(.*\)"/\1/p' \
    "$(node_home 0)/cometbft/config/config.toml" | head -n 1)"
  init_log="$(log_file "$i" init)"
  mkdir -p "$TESTNET/logs" "$TESTNET/pids"
  say "node$i: a full node joining by state sync (snapshot $snapshot, trusted header hash $trust_hash)"
  "$NODEOPD" init --home "$home" --chain-id "$CHAIN_ID" --moniker "node$i" \
    --client-home "$home/client" --cometbft "$COMETBFT" --timeout-commit "${timeout_commit:-500ms}" \
    --abci-laddr "tcp://127.0.0.1:$(abci_port "$i")" \
    --rpc-laddr "tcp://127.0.0.1:$(rpc_port "$i")" \
    --p2p-laddr "tcp://127.0.0.1:$(p2p_port "$i")" >"$init_log" 2>&1 \
    || { cat "$init_log" >&2; die "nodeopd init of node$i failed"; }
  cp "$(node_home 0)/cometbft/config/genesis.json" "$home/cometbft/config/genesis.json"
  for ((j = 0; j < NODES; j++)); do
    peers+=("$("$COMETBFT" show-node-id --home "$(node_home "$j")/cometbft")@127.0.0.1:$(p2p_port "$j")")
  done
  # the light client wants two RPC servers (a primary and a witness)
  rpcs="127.0.0.1:$rpc0,127.0.0.1:$(rpc_port $((NODES > 1 ? 1 : 0)))"
  config="$home/cometbft/config/config.toml"
  sed -i -e "s|^persistent_peers = .*|persistent_peers = \"$(IFS=,; echo "${peers[*]}")\"|" \
    -e '/^\[statesync\]/,/^\[/ {
      s|^enable = .*|enable = true|
      s|^rpc_servers = .*|rpc_servers = "'"$rpcs"'"|
      s|^trust_height = .*|trust_height = '"$snapshot"'|
      s|^trust_hash = .*|trust_hash = "'"$trust_hash"'"|
      s|^discovery_time = .*|discovery_time = "5s"|
    }' "$config"
  FULL_NODES=$((FULL_NODES + 1))
  ALL_NODES=$((NODES + FULL_NODES))
  save_env
  local target started h
  target="$(height_of 0)"
  started="$(date +%s)"
  start_node "$i"
  h="$(wait_block "$i" "$((target - 1))")"
  say "node$i: at height $h, $(( $(date +%s) - started )) s after its start (node0 was at $target)"
  sed "s/\x1b\[[0-9;]*m//g" "$(log_file "$i" nodeopd)" | grep -h "state sync: state restored" \
    | tail -n 1 || true
  cmd_status
}

case "$COMMAND" in
  start) cmd_start "$@" ;;
  join-statesync | --join-statesync) cmd_join_statesync "$@" ;;
  stop) [[ $# -eq 0 ]] || die "stop: unexpected argument: $1"; cmd_stop ;;
  status) [[ $# -eq 0 ]] || die "status: unexpected argument: $1"; cmd_status ;;
  kill-agent | start-agent)
    [[ $# -eq 1 ]] || die "$COMMAND needs one agent name (nodeI or coprocessorJ)"
    load_env
    check_agent "$1"
    if [[ "$COMMAND" == kill-agent ]]; then kill_agent "$1"; else
      ensure_binaries
      start_agent "$1"
    fi
    ;;
  stop-node | kill-node | start-node | logs)
    [[ $# -ge 1 ]] || die "$COMMAND needs a node index"
    cmd_node "$COMMAND" "$@"
    ;;
  *) die "unknown command: $COMMAND (see --help)" ;;
esac
