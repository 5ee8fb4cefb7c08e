#!/usr/bin/env bash
# Live capture: TPACKET_V3 ring against recvfrom (FLOWWATCH_CAPTURE_RING=off), in turn.
#
#   sudo bench/live.sh                        # 10 s of blasting, 1 sender thread, 3 rounds
#   SECONDS_PER_RUN=20 THREADS=2 ROUNDS=5 PAYLOAD=64 sudo -E bench/live.sh
#   SAME_CPU=1 sudo -E bench/live.sh           # capture and sender share CPU 0
#
# Two network namespaces joined by a veth pair; in one, `blast` (examples/blast.rs) sends UDP
# datagrams over 16 flows per thread to an on-link address with a static, foreign MAC (so the
# receiving side's IP layer drops them quietly after the packet socket saw them: no socket,
# no ICMP); in the other, `live_count` (examples/live_count.rs) counts them with LiveCapture
# on the veth end and prints frames counted, kernel drops and its CPU time. The sender is
# pinned to CPU 0 (the veth's receive softirq runs there too), the capture to CPU 1 (or to
# CPU 0 as well with SAME_CPU=1, where they compete).
# Needs root and `ip netns`. See docs/capture.md ("Live capture: benchmark").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${SECONDS_PER_RUN:-10}"
THREADS="${THREADS:-1}"
ROUNDS="${ROUNDS:-3}"
PAYLOAD="${PAYLOAD:-64}"
SAME_CPU="${SAME_CPU:-0}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

(cd "$ROOT" && cargo build --release --locked -p flowwatch-capture --examples)
BLAST="$TARGET/release/examples/blast"
COUNT="$TARGET/release/examples/live_count"

ID=$$
TX="fwbench-tx-$ID"
CAP="fwbench-cap-$ID"
VTX="fwb${ID}t"
VCAP="fwb${ID}c"
cleanup() {
    ip netns del "$TX" 2>/dev/null || true
    ip netns del "$CAP" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$TX"
ip netns add "$CAP"
ip -n "$TX" link add "$VTX" type veth peer name "$VCAP" netns "$CAP"
for pair in "$TX $VTX 10.215.0.2" "$CAP $VCAP 10.215.0.1"; do
    read -r ns dev addr <<<"$pair"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip -n "$ns" addr add "$addr/24" dev "$dev"
    ip -n "$ns" link set "$dev" up
    ip -n "$ns" link set lo up
done
# 10.215.0.9 "lives" at a MAC nobody has: frames reach the capture side as PACKET_OTHERHOST.
ip -n "$TX" neigh replace 10.215.0.9 lladdr 02:00:00:00:00:09 dev "$VTX" nud permanent

cpus=$(nproc)
pin_tx=(); pin_cap=()
if ((cpus >= 2)) && command -v taskset >/dev/null; then
    pin_tx=(taskset -c 0); pin_cap=(taskset -c 1)
fi
if [[ "$SAME_CPU" == 1 ]] && command -v taskset >/dev/null; then
    pin_tx=(taskset -c 0); pin_cap=(taskset -c 0)
fi

echo "# $(nproc) CPUs, kernel $(uname -r); $RUN s per run, $THREADS sender thread(s), $PAYLOAD-byte payloads"
for round in $(seq "$ROUNDS"); do
    for mode in on off; do
        out="$(mktemp)"
        FLOWWATCH_CAPTURE_RING=$mode ip netns exec "$CAP" "${pin_cap[@]}" \
            "$COUNT" "$VCAP" $((RUN + 2)) >"$out" &
        cap=$!
        sleep 1
        sent="$(ip netns exec "$TX" "${pin_tx[@]}" "$BLAST" 10.215.0.9:9000 "$RUN" "$PAYLOAD" "$THREADS")"
        wait "$cap"
        line="$(cat "$out")"; rm -f "$out"
        frames=$(sed -n 's/.* frames=\([0-9]*\).*/\1/p' <<<"$line")
        echo "round $round ring=$mode: $sent; $line; captured $((frames / RUN))/s"
    done
done
