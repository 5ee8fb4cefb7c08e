# Shared by the bench scripts (sourced): a temp work directory, the server they start, and
# helpers to find a port, wait for it and read the server's CPU time and peak RSS.
# Sets WORK and SERVER_PID (start a server with `... & SERVER_PID=$!`); cleans up on exit.

WORK="$(mktemp -d -t flowwatch-bench.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # port seconds
    local deadline=$((SECONDS + $2))
    until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        if ((SECONDS > deadline)); then
            echo "nothing listening on port $1 after $2 s" >&2
            return 1
        fi
        sleep 0.2
    done
}

cpu_ticks() { # pid -> utime+stime in clock ticks (fields after the ")" of comm)
    sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

peak_rss_kb() {
    awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# run_bench LABEL PORT ARGS... : runs $BIN/ingest-bench with $CLIENTS clients and ARGS against
# SERVER_PID, writes $WORK/LABEL.json (its summary, plus the server's peak RSS and CPU time)
run_bench() {
    local label="$1" port="$2"
    shift 2
    local before after ticks
    ticks="$(getconf CLK_TCK)"
    before="$(cpu_ticks "$SERVER_PID")"
    "$BIN/ingest-bench" --endpoint "http://127.0.0.1:$port" --clients "$CLIENTS" \
        --label "$label" "$@" >"$WORK/$label.out"
    after="$(cpu_ticks "$SERVER_PID")"
    local rss
    rss="$(peak_rss_kb "$SERVER_PID")"
    tail -n 1 "$WORK/$label.out" | python3 -c '
import json, sys
s = json.load(sys.stdin)
s["server_peak_rss_kb"] = int(sys.argv[1])
s["server_cpu_seconds"] = (int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4])
s["server_cpu_percent"] = 100 * s["server_cpu_seconds"] / s["seconds"]
print(json.dumps(s))' "$rss" "$before" "$after" "$ticks" >"$WORK/$label.json"
}
