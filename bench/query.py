#!/usr/bin/env python3
"""Logs Insights queries over N default-format flow records: flowwatch against DuckDB.

Run through bench/query.sh, which builds the release binary. This script:

1. generates N records deterministically (`flowwatch generate --seed 1 --start S`, S = the
   start of yesterday UTC, so the events are recent enough for PutLogEvents) into a text file
   with AWS's header line, and delivers the same records to a fresh `flowwatch serve`, then
   waits (at most a minute) until the server is idle, its flushes and compaction done;
2. runs each query (a) on the server (`flowwatch query -g vpc-flow-logs`) and (b) straight on
   the text file (`flowwatch query --file`), timing the command;
3. runs the same queries in SQL with DuckDB (pip) (a) on a table loaded from the file
   beforehand and (b) straight on the file (`read_csv`), timing each;
4. prints seconds per query and mode and the ratio flowwatch / DuckDB (below 1: flowwatch is
   faster), and checks that both engines give the same answer.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

import duckdb

BIN = os.environ["FLOWWATCH_BIN"]
N = int(os.environ.get("RECORDS", "10000000"))
ROOT_KEY, ROOT_SECRET = "AKIABENCHQUERYROOT01", "bench-query-secret"
HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
IP = "203.0.113.111"

# (name, Logs Insights query, DuckDB SQL over table `t` (columns) or `lines` (line)).
QUERIES = [
    (
        "1 rejected SSH by source",
        "filter action='REJECT' and dstPort=22 | stats count(*) as n by srcAddr | sort n desc | limit 20",
        "SELECT srcaddr, count(*) AS n FROM {t} WHERE action='REJECT' AND dstport=22 GROUP BY srcaddr ORDER BY n DESC, srcaddr LIMIT 20",
    ),
    (
        "2 point filter on srcAddr",
        "filter srcAddr = '10.0.0.4' | stats count(*) as n by srcAddr, dstAddr, dstPort | sort n desc | limit 10000",
        "SELECT srcaddr, dstaddr, dstport, count(*) AS n FROM {t} WHERE srcaddr='10.0.0.4' GROUP BY ALL ORDER BY n DESC LIMIT 10000",
    ),
    (
        "3 bytes by pair, top 10",
        "stats sum(bytes) as b by srcAddr, dstAddr | sort b desc | limit 10",
        "SELECT srcaddr, dstaddr, sum(bytes) AS b FROM {t} GROUP BY ALL ORDER BY b DESC LIMIT 10",
    ),
    (
        "4 count by bin(5m)",
        "stats count(*) as n by bin(5m)",
        'SELECT start - start % 300 AS w, count(*) AS n FROM {t} GROUP BY w ORDER BY w',
    ),
    (
        "5 distinct ports by source",
        "stats count_distinct(dstPort) as d by srcAddr | sort d desc | limit 10",
        "SELECT srcaddr, count(DISTINCT dstport) AS d FROM {t} GROUP BY srcaddr ORDER BY d DESC LIMIT 10",
    ),
    (
        "6 substring search for an IP",
        f"filter @message like '{IP}' | stats count(*) as n",
        f"SELECT count(*) AS n FROM {{lines}} WHERE contains(line, '{IP}')",
    ),
]

COLUMNS = (
    "{'version':'INTEGER','account':'VARCHAR','eni':'VARCHAR','srcaddr':'VARCHAR',"
    "'dstaddr':'VARCHAR','srcport':'INTEGER','dstport':'INTEGER','protocol':'INTEGER',"
    "'packets':'BIGINT','bytes':'BIGINT','start':'BIGINT','end':'BIGINT','action':'VARCHAR',"
    "'status':'VARCHAR'}"
)


def run(cmd, env=None, **kw):
    out = subprocess.run(cmd, env={**os.environ, **(env or {})}, **kw)
    if out.returncode != 0:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr or ''}")
    return out


def timed(cmd, env=None):
    t = time.perf_counter()
    out = run(cmd, env=env, capture_output=True, text=True)
    return time.perf_counter() - t, out.stdout


def main():
    work = tempfile.mkdtemp(prefix="flowwatch-query-bench-")
    start = (int(time.time()) // 86400 - 6) * 86400
    flows = os.path.join(work, "flows.log")
    print(f"== generating {N:,} records (seed 1, start {start})", file=sys.stderr)
    body = os.path.join(work, "body.log")
    run([BIN, "generate", "--count", str(N), "--seed", "1", "--interfaces", "64", "--start", str(start),
         "--out", body])
    with open(flows, "w") as out:
        out.write(HEADER + "\n")
    run(f"cat {body} >> {flows} && rm {body}", shell=True)
    size = os.path.getsize(flows)

    env = {
        "AWS_ACCESS_KEY_ID": ROOT_KEY,
        "AWS_SECRET_ACCESS_KEY": ROOT_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    port_probe = subprocess.run(
        [sys.executable, "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"],
        capture_output=True, text=True, check=True)
    port = port_probe.stdout.strip()
    endpoint = f"http://127.0.0.1:{port}"
    config = os.path.join(work, "flowwatch.toml")
    with open(config, "w") as f:
        f.write(f"query_memory_limit_bytes = {4 << 30}\n")
    server = subprocess.Popen(
        [BIN, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(work, "data"),
         "--config", config, "--log", "warn", "--rate-limit-scale", "0"],
        env={**os.environ, "FLOWWATCH_ROOT_ACCESS_KEY_ID": ROOT_KEY,
             "FLOWWATCH_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET},
        stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    try:
        while "listening" not in (server.stdout.readline() or "listening"):
            pass
        print(f"== delivering them to {endpoint}", file=sys.stderr)
        t = time.perf_counter()
        run([BIN, "generate", "--count", str(N), "--seed", "1", "--interfaces", "64",
             "--start", str(start), "--endpoint-url", endpoint, "--log-group", "vpc-flow-logs"],
            env=env,
            stdout=subprocess.DEVNULL)
        ingest = time.perf_counter() - t
        # Stored means settled: let the server finish flushing and compacting what it was
        # given (as DuckDB's table is loaded before its queries), at most a minute.
        settle = time.perf_counter()
        busy = lambda: sum(int(x) for x in open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()[11:13])
        while time.perf_counter() - settle < 60:
            before = busy()
            time.sleep(1)
            if busy() - before < 5:  # under 5 % of a core over that second
                break
        print(f"== server settled after {time.perf_counter() - settle:.0f} s", file=sys.stderr)
        since, until = str((start - 3600) * 1000), str(int(time.time() + 7200) * 1000)

        print("== DuckDB: loading its table", file=sys.stderr)
        db = duckdb.connect()
        db.execute("SET threads TO 2")
        read = (f"read_csv('{flows}', delim=' ', skip=1, header=false, auto_detect=false, "
                f"nullstr='-', columns={COLUMNS})")
        read_lines = (f"read_csv('{flows}', delim='\\x01', skip=1, header=false, auto_detect=false, "
                      f"quote='', escape='', columns={{'line':'VARCHAR'}})")
        t = time.perf_counter()
        db.execute(f"CREATE TABLE t AS SELECT * FROM {read}")
        db.execute(f"CREATE TABLE lines AS SELECT * FROM {read_lines}")
        duck_load = time.perf_counter() - t

        rows = []
        for name, insights, sql in QUERIES:
            print(f"== {name}", file=sys.stderr)
            fw_server, out_server = timed(
                [BIN, "query", "--endpoint-url", endpoint, "-g", "vpc-flow-logs", "--since", since,
                 "--until", until, "--format", "json", insights], env=env)
            fw_file, out_file = timed([BIN, "query", "--file", flows, "--format", "json", insights])
            t = time.perf_counter()
            duck_rows = db.execute(sql.format(t="t", lines="lines")).fetchall()
            duck_table = time.perf_counter() - t
            t = time.perf_counter()
            duck_file_rows = db.execute(sql.format(t=read, lines=read_lines)).fetchall()
            duck_file = time.perf_counter() - t
            server_rows, file_rows = json.loads(out_server), json.loads(out_file)
            agree = len(server_rows) == len(duck_rows) == len(file_rows) == len(duck_file_rows)
            # The first row's last value (a count or a sum) must agree too.
            if agree and duck_rows:
                want = float(duck_rows[0][-1])
                alias = re.findall(r"as (\w+)", insights)[-1]
                for got in (server_rows, file_rows):
                    agree = agree and float(got[0][alias]) == want
            rows.append((name, fw_server, duck_table, fw_file, duck_file, agree))
    finally:
        server.terminate()
        server.wait()
        run(["rm", "-rf", work])

    print()
    print(f"{N:,} records, {size / 1e6:,.0f} MB of text; flowwatch ingest {ingest:.1f} s "
          f"({N / ingest:,.0f} records/s), DuckDB table load {duck_load:.1f} s")
    print()
    print("| query | flowwatch stored s | DuckDB table s | ratio | flowwatch file s | DuckDB file s | ratio | same answer |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, fs, dt, ff, df, agree in rows:
        print(f"| {name} | {fs:.2f} | {dt:.2f} | {fs / dt:.1f} | {ff:.2f} | {df:.2f} | {ff / df:.1f} | {'yes' if agree else 'NO'} |")


if __name__ == "__main__":
    main()
