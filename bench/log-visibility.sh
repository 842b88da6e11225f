#!/usr/bin/env bash
# Benchmark: how soon a line printed on member 1 is readable on member 2, and log
# throughput of one execution, with logs in S3 (S3Mock, a real S3-compatible server) and in a
# shared folder. Two member processes share one embedded PostgreSQL. Last line: JSON.
#   bench/log-visibility.sh [seconds=30] [megabytes=100]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN="${1:-30}"
MEGABYTES="${2:-100}"
WORK="$(mktemp -d /tmp/tandem-bench-logs.XXXXXX)"
TOKEN="tdm_bench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
DB_PORT=54393 S3_PORT=19390
mvn -B -q -DskipTests package -pl node-runtime,bench -am >&2
echo "work folder $WORK" >&2
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

java -Xmx256m -XX:TieredStopAtLevel=1 -cp "$(cat s3mock-server/target/classpath.txt)" com.adobe.testing.s3mock.S3MockApplication \
  --http.port=$S3_PORT --server.port=$((S3_PORT + 1)) --silent=true --com.adobe.testing.s3mock.store.root="$WORK/s3" \
  --com.adobe.testing.s3mock.store.initial-buckets=tandem-logs --com.adobe.testing.s3mock.max-payload-size=64MB > "$WORK/s3mock.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$S3_PORT/" >/dev/null 2>&1 && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$S3_PORT/" >/dev/null || { echo "S3Mock did not start:" >&2; cat "$WORK/s3mock.log" >&2; exit 1; }

member() { # name port storage
  local name=$1 port=$2 storage=$3 db
  if [[ $name == m1 ]]; then db="{embedded: true, embeddedServer: {dataDir: $WORK/pg, port: $DB_PORT, fsync: true}}";
  else db="{url: 'jdbc:postgresql://127.0.0.1:$DB_PORT/postgres', user: postgres, password: ''}"; fi
  local logs="{storage: folder, dir: $WORK/shared-logs}"
  [[ $storage == s3 ]] && logs="{storage: s3, s3: {endpoint: 'http://127.0.0.1:$S3_PORT', bucket: tandem-logs, prefix: bench/, pathStyle: true, accessKeyId: bench, secretAccessKey: bench}}"
  cat > "$WORK/$name.yml" <<YML
site: {id: a}
member: {id: $name, name: $name, dataDir: $WORK/$name, url: "http://127.0.0.1:$port"}
database: $db
logs: $logs
execution: {workDir: $WORK/$name/work, threads: 16}
auth: {bootstrapAdmin: {user: admin, token: "$TOKEN"}}
server:
  applicationConnectors: [{type: http, bindHost: 127.0.0.1, port: $port}]
  adminConnectors: [{type: http, bindHost: 127.0.0.1, port: $((port + 1))}]
  requestLog: {appenders: []}
logging: {level: WARN}
YML
  java -Xmx256m -XX:+UseSerialGC -jar node-runtime/target/node-runtime.jar server "$WORK/$name.yml" > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$((port + 1))/healthcheck" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "member $name did not become healthy:" >&2; curl -s "http://127.0.0.1:$((port + 1))/healthcheck" >&2 || true; cat "$WORK/$name.log" >&2; return 1
}

results=()
for storage in s3 folder; do
  member m1 18480 $storage
  member m2 18482 $storage
  r=$(java -cp "bench/target/bench.jar:$(cat bench/target/classpath.txt)" dev.tandem.bench.LogVisibility \
      http://127.0.0.1:18480 http://127.0.0.1:18482 "$TOKEN" "$SECONDS_RUN" "$MEGABYTES" | tail -1)
  echo "$storage: $r" >&2
  results+=("\"$storage\":$r")
  kill "${PIDS[-1]}" "${PIDS[-2]}"; wait "${PIDS[-1]}" 2>/dev/null || true; wait "${PIDS[-2]}" 2>/dev/null || true
  unset 'PIDS[-1]' 'PIDS[-2]'
  rm -rf "$WORK/pg" "$WORK/m1" "$WORK/m2"
done
echo "{$(IFS=,; echo "${results[*]}"),\"rundeckCheckpointSeconds\":30,\"date\":\"$(date -u +%F)\"}"
