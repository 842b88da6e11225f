#!/usr/bin/env bash
# Benchmark: 1,000 runs of a one-step `exec: true` job on one runtime.
# Prints runs/s, run-call-to-finished p50/p99, and idle/loaded RSS; the last line is JSON.
#   bench/run-throughput.sh [runs] [concurrency]
# The runtime runs as the demo does: embedded PostgreSQL with fsync on, -Xmx512m, SerialGC.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-1000}"
CONCURRENCY="${2:-16}"
WORK="$(mktemp -d /tmp/tandem-bench.XXXXXX)"
PORT=18080 ADMIN_PORT=18081 DB_PORT=54390
TOKEN="tdm_bench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"

mvn -B -q -DskipTests package -pl node-runtime,bench -am >&2

cat > "$WORK/bench.yml" <<YML
site: {id: a}
member: {id: bench-1, name: bench-1, dataDir: $WORK/member, url: "http://127.0.0.1:$PORT"}
database:
  embedded: true
  embeddedServer: {dataDir: $WORK/postgres, port: $DB_PORT, fsync: true}
logs: {dir: $WORK/logs}
execution: {workDir: $WORK/work, threads: 32}
auth: {bootstrapAdmin: {user: admin, token: "$TOKEN"}}
server:
  applicationConnectors: [{type: http, bindHost: 127.0.0.1, port: $PORT}]
  adminConnectors: [{type: http, bindHost: 127.0.0.1, port: $ADMIN_PORT}]
  requestLog: {appenders: []}
logging: {level: WARN}
YML

java -Xms64m -Xmx512m -XX:+UseSerialGC -jar node-runtime/target/node-runtime.jar server "$WORK/bench.yml" > "$WORK/runtime.log" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$ADMIN_PORT/healthcheck" >/dev/null 2>&1 && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$ADMIN_PORT/healthcheck" >/dev/null || { cat "$WORK/runtime.log" >&2; exit 1; }
sleep 5  # let start-up settle before reading the idle footprint (a measurement, not synchronisation)

rss_kb() { ps -o rss= -p "$1" | tr -d ' '; }
pg_rss_kb() { local total=0; for p in $(pgrep -f "postgres -D $WORK/postgres" ; pgrep -P "$(pgrep -f "postgres -D $WORK/postgres" | head -1)" 2>/dev/null); do total=$((total + $(ps -o rss= -p "$p" 2>/dev/null | tr -d ' ' || echo 0))); done; echo "$total"; }
IDLE_KB=$(rss_kb "$PID")
IDLE_PG_KB=$(pg_rss_kb)

PEAK_FILE="$WORK/peak"
echo 0 > "$PEAK_FILE"
( while kill -0 "$PID" 2>/dev/null; do r=$(rss_kb "$PID"); [[ "$r" -gt "$(cat "$PEAK_FILE")" ]] && echo "$r" > "$PEAK_FILE"; sleep 0.2; done ) &
SAMPLER=$!

RESULT=$(java -cp "bench/target/bench.jar:$(cat bench/target/classpath.txt)" dev.tandem.bench.RunThroughput \
  "http://127.0.0.1:$PORT" "$TOKEN" "$RUNS" "$CONCURRENCY" | tail -1)
kill "$SAMPLER" 2>/dev/null || true
LOADED_KB=$(cat "$PEAK_FILE")

echo "runtime JVM RSS idle $((IDLE_KB / 1024)) MB, loaded peak $((LOADED_KB / 1024)) MB; embedded PostgreSQL RSS idle $((IDLE_PG_KB / 1024)) MB" >&2
echo "$RESULT" | sed "s/}\$/,\"idleRssMb\":$((IDLE_KB / 1024)),\"loadedRssMb\":$((LOADED_KB / 1024)),\"idlePostgresRssMb\":$((IDLE_PG_KB / 1024)),\"date\":\"$(date -u +%F)\"}/"
