#!/usr/bin/env bash
# Logs Insights over 10 million default-format flow records: flowwatch (stored, and straight on
# the text file) against DuckDB (its table, and straight on the file). See bench/query.py and
# docs/benchmarks.md.
#
#   bench/query.sh                     # 10,000,000 records
#   RECORDS=1000000 bench/query.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

if [[ -z "${SKIP_BUILD:-}" ]]; then
    echo "== building the release binary (cargo build --release -p flowwatch-cli)" >&2
    (cd "$ROOT" && cargo build --release -p flowwatch-cli)
fi
if ! python3 -c 'import duckdb' 2>/dev/null; then
    echo "== installing duckdb" >&2
    python3 -m pip install --quiet duckdb
fi
FLOWWATCH_BIN="$TARGET_DIR/release/flowwatch" exec python3 "$ROOT/bench/query.py"
