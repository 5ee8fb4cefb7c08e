#!/usr/bin/env bash
# What 100 metric filters cost durable ingest through HTTP PutLogEvents.
#
#   bench/metric-filters.sh                       # 3 rounds of: no filters, dashboard, alerting
#   ROUNDS=5 DURATION=30 CLIENTS=4 bench/metric-filters.sh
#   SETS="none dashboard" bench/metric-filters.sh
#   SKIP_BUILD=1 ONE=dashboard BATCHES=200 bench/metric-filters.sh   # one fixed-work run, for
#       farm-bench --vs 'env SKIP_BUILD=1 ONE=none BATCHES=200 bench/metric-filters.sh' \
#           -- env SKIP_BUILD=1 ONE=dashboard BATCHES=200 bench/metric-filters.sh
#
# Builds release binaries. Each round starts a fresh `flowwatch serve` (fsync on, the default)
# per filter set, runs `ingest-bench --events flow-logs --metric-filters SET` for DURATION
# seconds (VPC flow-log lines; the set's 100 filters put on the group first; the run ends when
# the filters have applied every acknowledged event), and stops it. The sets alternate within a
# round, so each ratio compares runs made back to back on this (shared, noisy) machine. Prints
# events/s per run and the ratio with filters / without per round. See docs/benchmarks.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLIENTS="${CLIENTS:-4}"
DURATION="${DURATION:-20}"
ROUNDS="${ROUNDS:-3}"
SETS="${SETS:-none dashboard alerting}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

if [[ -z "${SKIP_BUILD:-}" ]]; then
    echo "== building release binaries (cargo build --release -p flowwatch-cli -p flowwatch-bench)" >&2
    (cd "$ROOT" && cargo build --release -p flowwatch-cli -p flowwatch-bench)
fi

# start_server LABEL: a fresh flowwatch on a free port ($PORT), fsync on.
start_server() {
    PORT="$(free_port)"
    # --auth off: ingest-bench sends a fixed, unverifiable signature (docs/benchmarks.md).
    "$BIN/flowwatch" serve --auth off --listen "127.0.0.1:$PORT" --data-dir "$WORK/data-$1" \
        --log warn >"$WORK/$1.log" 2>&1 &
    SERVER_PID=$!
    wait_port "$PORT" 60
}

if [[ -n "${ONE:-}" ]]; then
    # One run of fixed work (BATCHES per client): its wall time is what farm-bench compares.
    start_server one
    run_bench one "$PORT" --events flow-logs --metric-filters "$ONE" --batches "${BATCHES:-200}"
    stop_server
    cat "$WORK/one.json"
    exit 0
fi

RESULTS=()
for round in $(seq 1 "$ROUNDS"); do
    for set in $SETS; do
        label="r${round}-${set}"
        echo "== round $round: $set, $CLIENTS clients, ${DURATION}s" >&2
        start_server "$label"
        run_bench "$label" "$PORT" --events flow-logs --metric-filters "$set" --duration "$DURATION"
        stop_server
        rm -rf "$WORK/data-$label"
        RESULTS+=("$WORK/$label.json")
    done
done

python3 - "${RESULTS[@]}" <<'PY'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[1:]]
print()
print("| run | filters | events/s | catch-up s | p50 ms | p99 ms | server CPU % | ratio to no filters |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
base = {}
ratios = {}
for r in rows:
    rnd, fset = r["label"].split("-", 1)
    if fset == "none":
        base[rnd] = r["events_per_sec"]
    ratio = r["events_per_sec"] / base[rnd] if rnd in base else float("nan")
    if fset != "none":
        ratios.setdefault(fset, []).append(ratio)
    print(
        f'| {r["label"]} | {r["metric_filters"]} | {r["events_per_sec"]:,.0f} | {r["catch_up_seconds"]:.1f} '
        f'| {r["p50_ms"]:.1f} | {r["p99_ms"]:.1f} | {r["server_cpu_percent"]:.0f} | {ratio:.2f} |'
    )
print()
for fset, rs in ratios.items():
    rs = sorted(rs)
    print(f"{fset}: ratio with 100 filters / without, per round: {', '.join(f'{x:.2f}' for x in rs)}; median {rs[len(rs) // 2]:.2f}")
for r in rows:
    print(json.dumps(r))
PY
