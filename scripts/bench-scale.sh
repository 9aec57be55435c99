#!/usr/bin/env bash
# Scale-out benchmark (docs/BENCHMARKS.md, "Scale-out"): real processes, NATS JetStream and
# PostgreSQL on this machine.
#
#  1. throughput: MENTIONS mentions are first published to the bus by the ingest role, then
#     1, 2 and 4 workers (plus one detector) drain them into PostgreSQL: mentions/s from the
#     workers' start to the last row;
#  2. latency at a steady load of RATE mentions/s for SECONDS s (2 workers, 1 detector):
#     p50/p99 published → stored, → detected, → level change, from the roles' /metrics;
#  3. the same two measures for the single-process default (`vigie serve`, SQLite).
#
# Roles run with the fast sentiment engine (the default; docs/BENCHMARKS.md measures the
# neural one separately).
#
#   scripts/bench-scale.sh [MENTIONS] [RATE] [SECONDS]
#
# Environment: VIGIE_BIN (default target/release/vigie; build it with
# `cargo build --release -p vigie`), VIGIE_TEST_POSTGRES_URL, VIGIE_TEST_NATS_URL
# (scripts/nats-test-server.sh). Prints a Markdown table.
set -euo pipefail
N="${1:-20000}"
RATE="${2:-500}"
SECS="${3:-20}"
BIN="${VIGIE_BIN:-target/release/vigie}"
PG="${VIGIE_TEST_POSTGRES_URL:?set VIGIE_TEST_POSTGRES_URL}"
NATS="${VIGIE_TEST_NATS_URL:?set VIGIE_TEST_NATS_URL}"
BIN="$(realpath "$BIN")"
WORK="$(mktemp -d /tmp/vigie-bench-scale.XXXXXX)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
cd "$WORK"

gen() { # gen COUNT START_INDEX > file: synthetic mentions, one in 5 about the watched brand
    python3 - "$1" "$2" <<'EOF'
import json, sys
n, start = int(sys.argv[1]), int(sys.argv[2])
texts = ["Le service client d'Orsane ne répond plus, #boycottorsane",
         "Great coffee this morning at the station",
         "Grève à la gare, trains annulés ce soir",
         "New phone who dis, the weather is nice today",
         "Quelqu'un a testé la nouvelle machine ? Avis partagés"]
base = 1767225600000  # 2026-01-01T00:00:00Z
for i in range(start, start + n):
    ms = base + i * 100
    d = {"source": "bench", "external_id": f"b{i}",
         "author": {"handle": f"user{i % 997}", "followers": i % 5000},
         "published_at": f"{ms // 1000}", "text": texts[i % 5] + f" #{i}"}
    s = ms // 1000
    import datetime
    d["published_at"] = datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps(d, ensure_ascii=False))
EOF
}

config() { # config DB > vigie.toml: the demo workspace with a followed file source
    cat <<EOF
version = 1
[storage]
database = "$1"
[server]
listen = "127.0.0.1:0"
[[workspaces]]
id = "orsane"
name = "Orsane"
[[workspaces.watches]]
id = "orsane"
name = "Orsane"
query = 'orsane OR #boycottorsane'
languages = []
own_accounts = []
[[workspaces.watches]]
id = "gare"
name = "Gare"
query = 'grève OR gare'
languages = []
own_accounts = []
[[workspaces.sources]]
type = "jsonl"
id = "feed"
path = "$WORK/feed.jsonl"
poll_interval = "100ms"
EOF
}

now() { date +%s.%N; }
metric() { # metric PORT NAME-AND-LABELS: first matching value
    # (a counter appears only once counted: no match is not an error)
    { curl -s "http://127.0.0.1:$1/metrics" || true; } | { grep -v '^#' || true; } | { grep -F "$2" || true; } | head -1 | awk '{print $2}'
}
pgcount() { psql "$PG" -tAc "SELECT count(*) FROM $1.mentions" 2>/dev/null || echo 0; }
role() { # role NAME PORT DB NS [args…] (background; pid appended to PIDS)
    local name=$1 port=$2 db=$3 ns=$4
    shift 4
    "$BIN" serve --config vigie.toml --database "$db" --role "$name" --bus "$NATS" \
        --bus-namespace "$ns" --bus-max-bytes 268435456 --listen "127.0.0.1:$port" --event-time "$@" \
        >"$WORK/$name-$port.log" 2>&1 &
    PIDS+=($!)
}
wait_port() { for _ in $(seq 1 200); do curl -s "http://127.0.0.1:$1/health" >/dev/null && return; sleep 0.1; done; }

gen "$N" 0 >"$WORK/stream.jsonl"
echo "| setup | mentions | seconds | mentions/s |" >"$WORK/throughput.md"
echo "|---|---|---|---|" >>"$WORK/throughput.md"

port=19100
for W in 1 2 4; do
    schema="bench_scale_${W}_$$"
    psql "$PG" -qc "CREATE SCHEMA $schema" >/dev/null
    db="$PG?options=-c%20search_path%3D$schema"
    ns="bench-$W-$$"
    config "$db" >vigie.toml
    cp "$WORK/stream.jsonl" "$WORK/feed.jsonl"
    # The workers prepare the detection consumer; the detector and the ingest come first
    # (ingest publishes everything while no worker runs).
    port=$((port + 10))
    role detector $port "$db" "$ns"; wait_port $port
    role ingest $((port + 1)) "$db" "$ns"; wait_port $((port + 1))
    # Wait until the whole file is in the bus.
    prev=-1
    while :; do
        sleep 1
        cur=$(metric $((port + 1)) 'vigie_bus_published_total{topic="raw"}')
        cur=${cur:-0}
        [ "$cur" = "$prev" ] && [ "$cur" != 0 ] && break
        prev=$cur
    done
    t0=$(now)
    for i in $(seq 1 $W); do role worker $((port + 1 + i)) "$db" "$ns"; done
    while [ "$(pgcount "$schema")" -lt "$N" ]; do sleep 0.2; done
    t1=$(now)
    python3 -c "print(f'| {$W} worker(s), PostgreSQL + NATS | $N | {($t1-$t0):.1f} | {$N/($t1-$t0):.0f} |')" >>"$WORK/throughput.md"
    cleanup; PIDS=()
    psql "$PG" -qc "DROP SCHEMA $schema CASCADE" >/dev/null
done

# Single process, SQLite: time from start to the last stored mention.
config "$WORK/single.db" >vigie.toml
cp "$WORK/stream.jsonl" "$WORK/feed.jsonl"
t0=$(now)
"$BIN" serve --config vigie.toml --listen "127.0.0.1:19090" --event-time >"$WORK/single.log" 2>&1 &
PIDS+=($!)
wait_port 19090
while :; do
    c=$(metric 19090 'vigie_pipeline_mentions_stored_total')
    [ "${c:-0}" -ge "$N" ] 2>/dev/null && break
    sleep 0.2
done
t1=$(now)
python3 -c "print(f'| single process, SQLite (includes start-up) | $N | {($t1-$t0):.1f} | {$N/($t1-$t0):.0f} |')" >>"$WORK/throughput.md"
cleanup; PIDS=()

# Latency at a steady load.
steady() { # steady: append RATE mentions/s for SECS seconds to feed.jsonl
    python3 - "$RATE" "$SECS" "$WORK/more.jsonl" "$WORK/feed.jsonl" <<'EOF'
import sys, time
rate, secs, src, dst = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
lines = open(src, encoding="utf-8").read().splitlines(True)
per_tick = max(1, rate // 10)
with open(dst, "a", encoding="utf-8") as out:
    i = 0
    start = time.monotonic()
    for tick in range(secs * 10):
        out.write("".join(lines[i:i + per_tick])); out.flush()
        i += per_tick
        time.sleep(max(0, start + (tick + 1) / 10 - time.monotonic()))
EOF
}
gen $((RATE * SECS)) "$N" >"$WORK/more.jsonl"
q() { # q PORT STAGE QUANTILE → milliseconds
    v=$(metric "$1" "vigie_scale_latency_seconds{stage=\"$2\",quantile=\"$3\"}")
    python3 -c "print(f'{float(\"${v:-nan}\")*1000:.0f}')"
}
echo "| setup (steady $RATE mentions/s for $SECS s) | stored p50 | stored p99 | detected p50 | detected p99 | level change p50 | level change p99 |" >"$WORK/latency.md"
echo "|---|---|---|---|---|---|---|" >>"$WORK/latency.md"

schema="bench_scale_lat_$$"
psql "$PG" -qc "CREATE SCHEMA $schema" >/dev/null
db="$PG?options=-c%20search_path%3D$schema"
ns="bench-lat-$$"
config "$db" >vigie.toml
cp "$WORK/stream.jsonl" "$WORK/feed.jsonl"
role detector 19200 "$db" "$ns"; wait_port 19200
role worker 19201 "$db" "$ns"; role worker 19202 "$db" "$ns"
role ingest 19203 "$db" "$ns"; wait_port 19203
while [ "$(pgcount "$schema")" -lt "$N" ]; do sleep 0.5; done   # warm-up: the backlog
# Reset the summaries: restart the metric windows by measuring only the steady phase.
cleanup; PIDS=()
role detector 19210 "$db" "$ns"; wait_port 19210
role worker 19211 "$db" "$ns"; role worker 19212 "$db" "$ns"
role ingest 19213 "$db" "$ns"; wait_port 19213; wait_port 19211; wait_port 19212
steady
sleep 3
echo "| 2 workers, PostgreSQL + NATS | $(q 19211 published_to_stored 0.5) | $(q 19211 published_to_stored 0.99) | $(q 19210 published_to_detected 0.5) | $(q 19210 published_to_detected 0.99) | $(q 19210 published_to_level_change 0.5) | $(q 19210 published_to_level_change 0.99) |" >>"$WORK/latency.md"
cleanup; PIDS=()
psql "$PG" -qc "DROP SCHEMA $schema CASCADE" >/dev/null

config "$WORK/single-lat.db" >vigie.toml
cp "$WORK/stream.jsonl" "$WORK/feed.jsonl"
"$BIN" serve --config vigie.toml --listen "127.0.0.1:19091" --event-time >"$WORK/single-lat.log" 2>&1 &
PIDS+=($!)
wait_port 19091
while c=$(metric 19091 'vigie_pipeline_mentions_stored_total'); [ "${c:-0}" -lt "$N" ]; do sleep 0.5; done
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}" || true; PIDS=()
"$BIN" serve --config vigie.toml --listen "127.0.0.1:19092" --event-time >"$WORK/single-lat2.log" 2>&1 &
PIDS+=($!)
wait_port 19092
steady
sleep 3
echo "| single process, SQLite | $(q 19092 published_to_stored 0.5) | $(q 19092 published_to_stored 0.99) | $(q 19092 published_to_detected 0.5) | $(q 19092 published_to_detected 0.99) | $(q 19092 published_to_level_change 0.5) | $(q 19092 published_to_level_change 0.99) |" >>"$WORK/latency.md"

cat "$WORK/throughput.md"; echo; cat "$WORK/latency.md"
echo; echo "(work folder: $WORK; cpu: $(nproc) cores)"
