#!/usr/bin/env bash
# pcap -> flow records: flowwatch capture against softflowd on the same pcap, in turn.
#
#   bench/capture.sh                          # 2,000,000 packets over 20,000 flows
#   PACKETS=5000000 FLOWS=100000 bench/capture.sh
#
# Builds flowwatch (release), writes a synthetic pcap (bench/gen-pcap.py), then runs
# `flowwatch capture --pcap FILE --stdout` and `softflowd -r FILE -d` (exporting NetFlow v9 to
# a discard port) alternately with farm-bench, which reports CPU, wall time and peak memory of
# each and their ratio pair by pair; then, when nfdump's nfpcapd is installed, against
# `nfpcapd -r FILE -w DIR` the same way. Needs softflowd (apt-get install softflowd, and
# nfdump for nfpcapd) and farm-bench.
# See docs/benchmarks.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACKETS="${PACKETS:-2000000}"
FLOWS="${FLOWS:-20000}"
RUNS="${RUNS:-5}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

if [[ -z "${SKIP_BUILD:-}" ]]; then
    echo "== building flowwatch (cargo build --release -p flowwatch-cli)" >&2
    (cd "$ROOT" && cargo build --release -p flowwatch-cli)
fi
PCAP="$WORK/bench.pcap"
echo "== writing $PACKETS packets over $FLOWS flows to $PCAP" >&2
python3 "$ROOT/bench/gen-pcap.py" "$PCAP" "$PACKETS" "$FLOWS"
records="$("$BIN/flowwatch" capture --pcap "$PCAP" --stdout --eni eni-0123456789abcdef0 2>/dev/null | wc -l)"
echo "== flowwatch makes $records records; softflowd (baseline, B) vs flowwatch (A)" >&2
farm-bench -n "$RUNS" --timeout 900 \
    --vs "sh -c 'exec softflowd -r $PCAP -n 127.0.0.1:9 -v 9 -d >/dev/null 2>&1'" \
    -- sh -c "exec $BIN/flowwatch capture --pcap $PCAP --stdout --eni eni-0123456789abcdef0 >/dev/null 2>&1"
if command -v nfpcapd >/dev/null; then
    echo "== nfpcapd (baseline, B) vs flowwatch (A)" >&2
    mkdir -p "$WORK/nfpcapd"
    farm-bench -n "$RUNS" --timeout 900 \
        --vs "sh -c 'rm -rf $WORK/nfpcapd/*; exec nfpcapd -r $PCAP -w $WORK/nfpcapd >/dev/null 2>&1'" \
        -- sh -c "exec $BIN/flowwatch capture --pcap $PCAP --stdout --eni eni-0123456789abcdef0 >/dev/null 2>&1"
fi
