#!/usr/bin/env bash
# Durable ingest through HTTP PutLogEvents: flowwatch against moto's server as the baseline.
#
#   bench/ingest.sh                 # 4 clients, 20 s against flowwatch, 50 batches per client against moto
#   CLIENTS=8 DURATION=60 MOTO_BATCHES=10 bench/ingest.sh
#   SKIP_MOTO=1 bench/ingest.sh     # flowwatch only
#
# Builds release binaries, starts `flowwatch serve` (fsync on, the default) on a temp data dir and
# a free port, runs `ingest-bench`, records the server's peak RSS (VmHWM) and CPU time, stops it;
# then the same against `moto_server`; prints a comparison table. See docs/benchmarks.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLIENTS="${CLIENTS:-4}"
DURATION="${DURATION:-20}"
MOTO_BATCHES="${MOTO_BATCHES:-50}"
EVENT_BYTES="${EVENT_BYTES:-150}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

echo "== building release binaries (cargo build --release -p flowwatch-cli -p flowwatch-bench)" >&2
(cd "$ROOT" && cargo build --release -p flowwatch-cli -p flowwatch-bench)

echo "== flowwatch: $CLIENTS clients, ${DURATION}s, ${EVENT_BYTES}-byte events, fsync on" >&2
PORT="$(free_port)"
# --auth off: ingest-bench sends a fixed, unverifiable signature (docs/benchmarks.md).
"$BIN/flowwatch" serve --auth off --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --log warn >"$WORK/flowwatch.log" 2>&1 &
SERVER_PID=$!
wait_port "$PORT" 60
run_bench flowwatch "$PORT" --event-bytes "$EVENT_BYTES" --duration "$DURATION"
stop_server
RESULTS=("$WORK/flowwatch.json")

if [[ -z "${SKIP_MOTO:-}" ]]; then
    if ! python3 -c 'import moto.server, flask' 2>/dev/null; then
        echo "== installing moto[server]" >&2
        python3 -m pip install --quiet 'moto[server]'
    fi
    echo "== moto $(python3 -c 'import moto; print(moto.__version__)'): $CLIENTS clients, $MOTO_BATCHES batches each" >&2
    PORT="$(free_port)"
    python3 -m moto.server -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
    SERVER_PID=$!
    wait_port "$PORT" 60
    run_bench moto "$PORT" --event-bytes "$EVENT_BYTES" --batches "$MOTO_BATCHES"
    stop_server
    RESULTS+=("$WORK/moto.json")
fi

python3 - "${RESULTS[@]}" <<'PY'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[1:]]
cols = [
    ("events/s", lambda r: f'{r["events_per_sec"]:,.0f}'),
    ("MB/s", lambda r: f'{r["mb_per_sec"]:.1f}'),
    ("p50 ms", lambda r: f'{r["p50_ms"]:.1f}'),
    ("p99 ms", lambda r: f'{r["p99_ms"]:.1f}'),
    ("peak RSS MiB", lambda r: f'{r["server_peak_rss_kb"] / 1024:.0f}'),
    ("server CPU %", lambda r: f'{r["server_cpu_percent"]:.0f}'),
    ("events", lambda r: f'{r["events"]:,}'),
    ("seconds", lambda r: f'{r["seconds"]:.1f}'),
]
print()
print("| server | " + " | ".join(c for c, _ in cols) + " |")
print("|---|" + "---:|" * len(cols))
for r in rows:
    print(f'| {r["label"]} | ' + " | ".join(f(r) for _, f in cols) + " |")
if len(rows) == 2:
    fw, moto = rows
    print(
        f'| flowwatch/moto | {fw["events_per_sec"] / moto["events_per_sec"]:.1f}x '
        f'| {fw["mb_per_sec"] / moto["mb_per_sec"]:.1f}x '
        f'| {fw["p50_ms"] / moto["p50_ms"]:.2f}x | {fw["p99_ms"] / moto["p99_ms"]:.2f}x '
        f'| {fw["server_peak_rss_kb"] / moto["server_peak_rss_kb"]:.2f}x | | | |'
    )
print()
print(f'({rows[0]["clients"]} clients, batches of {rows[0]["batch_events"]} events of {rows[0]["event_bytes"]} bytes)')
for r in rows:
    print(json.dumps(r))
PY
