#!/usr/bin/env bash
# What SigV4 verification and IAM policy evaluation cost durable ingest through HTTP
# PutLogEvents: `--auth on` with an IAM user whose policy allows the writes, against
# `--auth off`, the same client signing every request for real in both.
#
#   bench/auth.sh                                   # 3 rounds, 20 s each, 10,000-event batches
#   BATCH_EVENTS=10 bench/auth.sh                   # small batches: the per-request cost shows
#   ROUNDS=5 DURATION=30 CLIENTS=4 bench/auth.sh
#
# Builds release binaries. Each round starts a fresh `flowwatch serve` (fsync on) with
# `--auth off`, then one with `--auth on`: on the latter the root key (given by environment)
# creates user `bench` with an inline policy allowing CreateLogGroup, CreateLogStream and
# PutLogEvents on `ingest-bench*` groups and an access key, through the aws CLI. ingest-bench
# signs with that key in both runs (an `--auth off` server only parses the signature), so the
# runs differ only in what the server does: verify the signature (HMAC chain, body hash),
# find the key's user, parse and evaluate its policy. Prints events/s per run and the ratio
# auth on / off per round, and its median. See docs/benchmarks.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLIENTS="${CLIENTS:-4}"
DURATION="${DURATION:-20}"
ROUNDS="${ROUNDS:-3}"
BATCH_EVENTS="${BATCH_EVENTS:-}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release"
ROOT_KEY="AKIABENCHROOTKEY0001"
ROOT_SECRET="bench-root-secret"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

if [[ -z "${SKIP_BUILD:-}" ]]; then
    echo "== building release binaries (cargo build --release -p flowwatch-cli -p flowwatch-bench)" >&2
    (cd "$ROOT" && cargo build --release -p flowwatch-cli -p flowwatch-bench)
fi

# root_aws ARGS...: the aws CLI as the root user of the server on $PORT.
root_aws() {
    AWS_ACCESS_KEY_ID="$ROOT_KEY" AWS_SECRET_ACCESS_KEY="$ROOT_SECRET" AWS_DEFAULT_REGION=us-east-1 \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
        aws --endpoint-url "http://127.0.0.1:$PORT" --output json "$@"
}

# start_server LABEL MODE: a fresh flowwatch on a free port ($PORT), fsync on.
start_server() {
    PORT="$(free_port)"
    FLOWWATCH_ROOT_ACCESS_KEY_ID="$ROOT_KEY" FLOWWATCH_ROOT_SECRET_ACCESS_KEY="$ROOT_SECRET" \
        "$BIN/flowwatch" serve --auth "$2" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data-$1" \
        --log warn >"$WORK/$1.log" 2>&1 &
    SERVER_PID=$!
    wait_port "$PORT" 60
}

# bench_user: creates the IAM user and its policy, and sets KEY_ID / KEY_SECRET to its key.
bench_user() {
    root_aws iam create-user --user-name bench >/dev/null
    root_aws iam put-user-policy --user-name bench --policy-name ingest --policy-document '{
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:us-east-1:*:log-group:ingest-bench*"
        }]
    }' >/dev/null
    local key
    key="$(root_aws iam create-access-key --user-name bench)"
    KEY_ID="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessKey"]["AccessKeyId"])' <<<"$key")"
    KEY_SECRET="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessKey"]["SecretAccessKey"])' <<<"$key")"
}

EXTRA=()
if [[ -n "$BATCH_EVENTS" ]]; then
    EXTRA+=(--batch-events "$BATCH_EVENTS")
fi

RESULTS=()
for round in $(seq 1 "$ROUNDS"); do
    for mode in off on; do
        label="r${round}-${mode}"
        echo "== round $round: auth $mode, $CLIENTS clients, ${DURATION}s" >&2
        start_server "$label" "$mode"
        if [[ "$mode" == on ]]; then
            bench_user
        else
            # Any well-formed key: an --auth off server does not look it up.
            KEY_ID="AKIABENCHUSERKEY0001"
            KEY_SECRET="bench-user-secret"
        fi
        AWS_ACCESS_KEY_ID="$KEY_ID" AWS_SECRET_ACCESS_KEY="$KEY_SECRET" \
            run_bench "$label" "$PORT" --events flow-logs --duration "$DURATION" "${EXTRA[@]}"
        stop_server
        rm -rf "$WORK/data-$label"
        RESULTS+=("$WORK/$label.json")
    done
done

python3 - "${RESULTS[@]}" <<'PY'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[1:]]
print()
print("| run | batch events | requests/s | events/s | p50 ms | p99 ms | server CPU % | server CPU µs / request | ratio on/off |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
base, ratios, cpu_ratios = {}, [], []
for r in rows:
    rnd, mode = r["label"].split("-", 1)
    requests = r["events_per_sec"] * r["seconds"] / r["batch_events"]
    cpu_us = 1e6 * r["server_cpu_seconds"] / requests
    if mode == "off":
        base[rnd] = (r["events_per_sec"], cpu_us)
        ratio = 1.0
    else:
        ratio = r["events_per_sec"] / base[rnd][0]
        ratios.append(ratio)
        cpu_ratios.append(cpu_us / base[rnd][1])
    print(
        f'| {r["label"]} | {r["batch_events"]:,} | {requests / r["seconds"]:,.0f} '
        f'| {r["events_per_sec"]:,.0f} | {r["p50_ms"]:.1f} | {r["p99_ms"]:.1f} '
        f'| {r["server_cpu_percent"]:.0f} | {cpu_us:,.0f} | {ratio:.3f} |'
    )
ratios.sort()
cpu_ratios.sort()
print()
print(f"throughput, auth on / off, per round: {', '.join(f'{x:.3f}' for x in ratios)}; median {ratios[len(ratios) // 2]:.3f}")
print(f"server CPU per request, auth on / off, per round: {', '.join(f'{x:.3f}' for x in cpu_ratios)}; median {cpu_ratios[len(cpu_ratios) // 2]:.3f}")
PY
