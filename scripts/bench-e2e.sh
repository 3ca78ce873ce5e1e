#!/usr/bin/env bash
# Side-by-side end-to-end throughput: CometBFT's built-in kvstore, the kvstore over the ABCI
# socket, and nodeopd, each a one-validator chain with the devnet's CometBFT config, driven by
# nodeop-load and measured from the blocks.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMETBFT_VERSION="0.38.25"
PORT_BASE="${BENCH_PORT_BASE:-36656}"
P2P_PORT="$PORT_BASE"
RPC_PORT="$((PORT_BASE + 1))"
ABCI_PORT="$((PORT_BASE + 2))"
RPC="http://127.0.0.1:$RPC_PORT"
CHAIN_ID="nodeop-load"
SEED="bench"

usage() {
  cat <<EOF
Usage: scripts/bench-e2e.sh [--quick] [--rate R] [--sweep R1,R2,...] [--duration S] [--warmup S]
                            [--accounts N] [--only LIST] [--out DIR] [--help]

Runs, one node at a time, three one-validator CometBFT v$COMETBFT_VERSION chains with the devnet's
config (timeout_commit 1s, mempool size 5000, the consensus params nodeopd init writes):
  builtin   cometbft start --proxy_app=kvstore (the kvstore inside the CometBFT process)
  socket    abci-cli kvstore on an ABCI socket + cometbft start --proxy_app=tcp://…
  nodeopd   nodeopd (release) with N accounts funded in genesis by nodeop-load genesis
and drives each with nodeop-load (8 senders, 210-byte txs: signed transfers for nodeopd,
key=value for the kvstores) at an offered rate and flat out, and optionally at each rate of a
sweep. Prints the table, and writes into DIR:
  RUN.json / RUN.txt   each nodeop-load run (JSON results, summary)
  results.csv          one line per run
  table.md             the table (markdown)
  throughput.svg       committed tx/s against offered load, one line per chain
  logs/                the nodes' logs

Options:
  --quick          short runs (12 s, 2 s warmup) and no sweep unless --sweep is given
  --rate R         the offered rate of the table, tx/s (default 4500)
  --sweep LIST     also run at these offered rates (comma-separated tx/s) for the plot
  --duration S     seconds of sending per run (default 60, i.e. a 55 s steady window)
  --warmup S       seconds left out of the window at the start of each run (default 5)
  --accounts N     funded accounts on the nodeopd chain (default 2000)
  --only LIST      run only these chains, comma-separated: builtin,socket,nodeopd
  --out DIR        results folder (default: bench-results/DATE-TIME in the repository)
  -h, --help       show this help

Builds nodeopd and nodeop-load (cargo build --release; CARGO_TARGET_DIR is respected), uses
bin/cometbft (scripts/setup.sh --no-build makes it) and bin/abci-cli (installed with
GOBIN=bin go install github.com/cometbft/cometbft/abci/cmd/abci-cli@v$COMETBFT_VERSION if
missing). Ports: P2P $P2P_PORT, RPC $RPC_PORT, ABCI $ABCI_PORT on 127.0.0.1 (BENCH_PORT_BASE moves
them; the devnet's 26656-26658 are not used). Every process started is stopped on exit.
EOF
}

RATE=4500
SWEEP=""
DURATION=60
WARMUP=5
DRAIN=60
ACCOUNTS=2000
ONLY="builtin,socket,nodeopd"
OUT=""
QUICK=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --rate) RATE="$2"; shift ;;
    --sweep) SWEEP="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --accounts) ACCOUNTS="$2"; shift ;;
    --only) ONLY="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench-e2e.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ "$QUICK" == 1 ]]; then
  DURATION=12
  WARMUP=2
  DRAIN=30
fi

say() { printf '==> %s\n' "$*"; }
die() { printf 'bench-e2e.sh: error: %s\n' "$*" >&2; exit 1; }

OUT="${OUT:-$ROOT/bench-results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT/logs"
OUT="$(cd "$OUT" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/nodeop-bench.XXXXXX")"

# --- processes: every one started is stopped on exit -----------------------------------------
PIDS=()
stop_pid() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_all() {
  local i
  # the newest first: cometbft before its app
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
  PIDS=()
}
cleanup() {
  stop_all
  rm -rf -- "$WORK"
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

# Whether a TCP port listens (from /proc: a probing connection would look like an ABCI client).
port_listening() {
  awk -v p="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
for port in "$P2P_PORT" "$RPC_PORT" "$ABCI_PORT"; do
  port_listening "$port" && die "port $port is in use (set BENCH_PORT_BASE)"
done

# --- binaries ---------------------------------------------------------------------------------
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
NODEOPD="$TARGET_DIR/release/nodeopd"
LOAD="$TARGET_DIR/release/nodeop-load"
COMETBFT="$ROOT/bin/cometbft"
ABCI_CLI="$ROOT/bin/abci-cli"
say "building nodeopd and nodeop-load (release)"
(cd "$ROOT" && cargo build --release -p nodeopd -p nodeop-load)
if [[ ! -x "$COMETBFT" ]] || ! "$COMETBFT" version 2>/dev/null | grep -qx "$COMETBFT_VERSION"; then
  "$ROOT/scripts/setup.sh" --no-build
fi
if [[ ",$ONLY," == *,socket,* && ! -x "$ABCI_CLI" ]]; then
  say "installing abci-cli v$COMETBFT_VERSION into bin/"
  GOBIN="$ROOT/bin" go install "github.com/cometbft/cometbft/abci/cmd/abci-cli@v$COMETBFT_VERSION"
fi
for b in "$NODEOPD" "$LOAD" "$COMETBFT"; do [[ -x "$b" ]] || die "$b is missing"; done

height() {
  curl -fsS --max-time 2 "$RPC/status" 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["sync_info"]["latest_block_height"])' \
      2>/dev/null
}
wait_for_blocks() {
  local h=0
  for _ in $(seq 1 600); do
    h="$(height || echo 0)"
    [[ "$h" =~ ^[0-9]+$ && "$h" -ge 2 ]] && return 0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "a node process exited; see $OUT/logs"; done
    sleep 0.1
  done
  die "no block after 60 s; see $OUT/logs"
}
wait_for_abci() {
  for _ in $(seq 1 300); do
    port_listening "$ABCI_PORT" && return 0
    sleep 0.1
  done
  die "nothing listens on the ABCI port $ABCI_PORT after 30 s; see $OUT/logs"
}

# --- homes: nodeopd init makes the devnet's config; the kvstores get a copy ------------------
NODE_HOME="$WORK/nodeopd"
say "nodeopd init (chain $CHAIN_ID) with $ACCOUNTS accounts funded by nodeop-load genesis"
"$NODEOPD" init --home "$NODE_HOME" --chain-id "$CHAIN_ID" --moniker bench \
  --cometbft "$COMETBFT" --devnet --timeout-commit 1s \
  --abci-laddr "tcp://127.0.0.1:$ABCI_PORT" --rpc-laddr "tcp://127.0.0.1:$RPC_PORT" \
  --p2p-laddr "tcp://127.0.0.1:$P2P_PORT" >"$OUT/logs/init.log" 2>&1 \
  || { cat "$OUT/logs/init.log" >&2; die "nodeopd init failed"; }
"$LOAD" genesis --accounts "$ACCOUNTS" --seed "$SEED" \
  --genesis "$NODE_HOME/cometbft/config/genesis.json" >>"$OUT/logs/init.log"
"$NODEOPD" genesis validate --home "$NODE_HOME" >>"$OUT/logs/init.log" 2>&1 \
  || { cat "$OUT/logs/init.log" >&2; die "genesis validation failed"; }
CONFIG="$NODE_HOME/cometbft/config/config.toml"
grep -q '^timeout_commit = "1s"' "$CONFIG" || die "unexpected timeout_commit in $CONFIG"
grep -q '^size = 5000' "$CONFIG" || die "unexpected mempool size in $CONFIG"

# A kvstore home: cometbft init, then nodeopd's config.toml (proxy_app set per chain) and the
# block params of nodeopd's genesis.
kv_home() {
  local home="$1" proxy="$2"
  "$COMETBFT" init --home "$home" >>"$OUT/logs/init.log" 2>&1
  sed "s|^proxy_app = .*|proxy_app = \"$proxy\"|" "$CONFIG" >"$home/config/config.toml"
  python3 - "$NODE_HOME/cometbft/config/genesis.json" "$home/config/genesis.json" <<'EOF'
import json, sys
src, dst = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
dst["consensus_params"]["block"] = src["consensus_params"]["block"]
json.dump(dst, open(sys.argv[2], "w"), indent=2)
EOF
}

LOAD_ARGS=(--senders 8 --duration "$DURATION" --warmup "$WARMUP" --drain "$DRAIN")
run_load() {
  local chain="$1" mode="$2" name="$3"
  shift 3
  say "$chain: nodeop-load run $* ($name)"
  "$LOAD" run --rpc "$RPC" --mode "$mode" --seed "$SEED" --accounts "$ACCOUNTS" \
    "${LOAD_ARGS[@]}" --label "$chain-$name" --json "$OUT/$chain-$name.json" "$@" \
    | tee "$OUT/$chain-$name.txt"
}
run_all_loads() {
  local chain="$1" mode="$2" r
  if [[ -n "$SWEEP" ]]; then
    for r in ${SWEEP//,/ }; do run_load "$chain" "$mode" "sweep-$r" --rate "$r"; done
  fi
  run_load "$chain" "$mode" "rate-$RATE" --rate "$RATE"
  run_load "$chain" "$mode" "flat-out" --flat-out
}

if [[ ",$ONLY," == *,builtin,* ]]; then
  kv_home "$WORK/builtin" kvstore
  say "builtin: cometbft start --proxy_app=kvstore"
  setsid "$COMETBFT" start --home "$WORK/builtin" --proxy_app=kvstore \
    >"$OUT/logs/builtin-cometbft.log" 2>&1 </dev/null &
  PIDS+=($!)
  wait_for_blocks
  run_all_loads builtin kv
  stop_all
fi

if [[ ",$ONLY," == *,socket,* ]]; then
  kv_home "$WORK/socket" "tcp://127.0.0.1:$ABCI_PORT"
  say "socket: abci-cli kvstore + cometbft start --proxy_app=tcp://127.0.0.1:$ABCI_PORT"
  setsid "$ABCI_CLI" kvstore --address "tcp://127.0.0.1:$ABCI_PORT" --log_level error \
    >"$OUT/logs/socket-abci-cli.log" 2>&1 </dev/null &
  PIDS+=($!)
  wait_for_abci
  setsid "$COMETBFT" start --home "$WORK/socket" \
    >"$OUT/logs/socket-cometbft.log" 2>&1 </dev/null &
  PIDS+=($!)
  wait_for_blocks
  run_all_loads socket kv
  stop_all
fi

if [[ ",$ONLY," == *,nodeopd,* ]]; then
  say "nodeopd: nodeopd start + cometbft start"
  setsid "$NODEOPD" start --home "$NODE_HOME" >"$OUT/logs/nodeopd.log" 2>&1 </dev/null &
  PIDS+=($!)
  wait_for_abci
  setsid "$COMETBFT" start --home "$NODE_HOME/cometbft" \
    >"$OUT/logs/nodeopd-cometbft.log" 2>&1 </dev/null &
  PIDS+=($!)
  wait_for_blocks
  run_all_loads nodeopd nodeop
  stop_all
fi

# --- table, CSV, plot ---------------------------------------------------------------------------
python3 - "$OUT" "$RATE" "$(nproc)" <<'EOF'
import csv, glob, json, os, sys

out, rate, cores = sys.argv[1], sys.argv[2], sys.argv[3]
runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out, "*.json")))]
chains = ["builtin", "socket", "nodeopd"]
names = {"builtin": "built-in kvstore", "socket": "socket kvstore", "nodeopd": "nodeopd"}

fields = ["label", "mode", "offered_rate", "sent_rate_in_window", "accepted", "committed_tps",
          "window_s", "window_blocks", "max_block_txs", "latency_p50_ms", "latency_p95_ms",
          "latency_p99_ms", "refused_retry_later", "refused_other", "rpc_errors",
          "accepted_not_executed", "executed_with_error", "stalled_accounts", "exhausted"]
with open(os.path.join(out, "results.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(fields)
    for r in runs:
        other = sum(v for k, v in r["refused"].items() if k not in ("tx/16", "cometbft/mempool_is_full"))
        w.writerow([r["label"], r["mode"], r["offered_rate"] or "flat-out",
                    round(r["sent_rate_in_window"], 1), r["accepted"], round(r["committed_tps"], 1),
                    round(r["window_s"], 1), r["window_blocks"], r["max_block_txs"],
                    round(r["latency"]["p50_ms"]), round(r["latency"]["p95_ms"]),
                    round(r["latency"]["p99_ms"]), r["retried"], other, r["rpc_errors"],
                    r["accepted_not_executed"], r["executed_with_error"], r["stalled_accounts"],
                    r["exhausted"]])

def find(chain, name):
    for r in runs:
        if r["label"] == f"{chain}-{name}":
            return r
    return None

def cell(r, key):
    if r is None:
        return "–"
    if key == "tps":
        return f"{r['committed_tps']:.0f}"
    if key == "sent":
        return f"{r['sent_rate_in_window']:.0f}"
    if key == "lat":
        l = r["latency"]
        return f"{l['p50_ms']:.0f} / {l['p95_ms']:.0f} / {l['p99_ms']:.0f}"
    if key == "lost":
        return f"{r['accepted_not_executed']} / {r['stalled_accounts'] if r['mode'] == 'nodeop' else '–'}"
    if key == "full":
        return str(r["retried"])

rows = []
for name, title in ((f"rate-{rate}", f"offered {rate} tx/s"), ("flat-out", "flat out")):
    for key, what in (("sent", "sent tx/s (window)"), ("tps", "committed tx/s"),
                      ("lat", "latency p50 / p95 / p99 ms"), ("full", "mempool-full refusals (retried)"),
                      ("lost", "accepted-but-lost / stalled accounts")):
        rs = [find(c, name) for c in chains]
        ratio = "–"
        if key == "tps" and rs[1] and rs[2] and rs[1]["committed_tps"] > 0:
            ratio = f"{rs[2]['committed_tps'] / rs[1]['committed_tps']:.2f}"
        rows.append([f"{title}: {what}"] + [cell(r, key) for r in rs] + [ratio])
header = ["", "built-in kvstore", "socket kvstore", "nodeopd", "nodeopd / socket kvstore"]
md = ["| " + " | ".join(header) + " |", "|---|---:|---:|---:|---:|"]
md += ["| " + " | ".join(r) + " |" for r in rows]
table = "\n".join(md) + "\n"
open(os.path.join(out, "table.md"), "w").write(table)
print()
print(table)

# committed tx/s against offered load (flat out at the right, at the rate it offered)
series = {}
for c in chains:
    pts = []
    for r in runs:
        if not r["label"].startswith(c + "-"):
            continue
        x = r["offered_rate"] if r["offered_rate"] else r["sent_rate_in_window"]
        pts.append((x, r["committed_tps"], r["offered_rate"] is None))
    series[c] = sorted(pts)
allx = [p[0] for s in series.values() for p in s] or [1]
ally = [p[1] for s in series.values() for p in s] or [1]
W, H, L, B, T, R = 720, 440, 70, 50, 40, 170
xmax = max(allx) * 1.08
ymax = max(max(ally), 1) * 1.15
def X(v): return L + (W - L - R) * v / xmax
def Y(v): return H - B - (H - B - T) * v / ymax
def nice(m):
    import math
    step = 10 ** math.floor(math.log10(m / 5)) if m > 0 else 1
    for k in (1, 2, 5, 10):
        if m / (step * k) <= 6:
            return step * k
    return step * 10
colors = {"builtin": "#1f77b4", "socket": "#2ca02c", "nodeopd": "#d62728"}
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2}" y="22" font-size="14" text-anchor="middle">Committed tx/s against offered load ({cores} cores, one validator, 1 s blocks)</text>']
sx, sy = nice(xmax), nice(ymax)
v = 0
while v <= xmax:
    svg.append(f'<line x1="{X(v):.1f}" y1="{H-B}" x2="{X(v):.1f}" y2="{T}" stroke="#eee"/>')
    svg.append(f'<text x="{X(v):.1f}" y="{H-B+16}" text-anchor="middle">{v:g}</text>')
    v += sx
v = 0
while v <= ymax:
    svg.append(f'<line x1="{L}" y1="{Y(v):.1f}" x2="{W-R}" y2="{Y(v):.1f}" stroke="#eee"/>')
    svg.append(f'<text x="{L-6}" y="{Y(v)+4:.1f}" text-anchor="end">{v:g}</text>')
    v += sy
svg.append(f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>')
svg.append(f'<line x1="{L}" y1="{H-B}" x2="{L}" y2="{T}" stroke="black"/>')
svg.append(f'<line x1="{X(0):.1f}" y1="{Y(0):.1f}" x2="{X(min(xmax, ymax)):.1f}" y2="{Y(min(xmax, ymax)):.1f}" stroke="#999" stroke-dasharray="4 4"/>')
svg.append(f'<text x="{(L + W - R)/2}" y="{H-12}" text-anchor="middle">offered tx/s (flat out: the rate it sent, hollow marker)</text>')
svg.append(f'<text x="16" y="{(H)/2}" transform="rotate(-90 16 {H/2})" text-anchor="middle">committed tx/s</text>')
for i, c in enumerate(chains):
    pts = series[c]
    if not pts:
        continue
    col = colors[c]
    fixed = [p for p in pts if not p[2]]
    if len(fixed) > 1:
        path = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y, _ in fixed)
        svg.append(f'<polyline points="{path}" fill="none" stroke="{col}" stroke-width="2"/>')
    for x, y, flat in pts:
        fill = "white" if flat else col
        svg.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="4" fill="{fill}" stroke="{col}" stroke-width="2"/>')
    ly = T + 20 + 20 * i
    svg.append(f'<line x1="{W-R+15}" y1="{ly}" x2="{W-R+40}" y2="{ly}" stroke="{col}" stroke-width="2"/>')
    svg.append(f'<text x="{W-R+46}" y="{ly+4}">{names[c]}</text>')
svg.append(f'<text x="{W-R+15}" y="{T+90}" fill="#999">dashed: committed = offered</text>')
svg.append("</svg>")
open(os.path.join(out, "throughput.svg"), "w").write("\n".join(svg) + "\n")
print(f"results in {out}: results.csv, table.md, throughput.svg, one JSON and summary per run")
EOF
