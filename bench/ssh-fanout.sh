#!/usr/bin/env bash
# Benchmark: a two-step job (an exec and an uploaded script) on N real SSH servers
# (Apache MINA SSHD on loopback, in the driver's JVM), with threadcount 1 and 10. Prints the wall
# time of each setting and the runtime's per-node SSH connection set-up time; the last line is JSON.
#   bench/ssh-fanout.sh [nodes=50] [runs=5]
set -euo pipefail
cd "$(dirname "$0")/.."
NODES="${1:-50}"
RUNS="${2:-5}"
WORK="$(mktemp -d /tmp/tandem-bench-ssh.XXXXXX)"
PORT=18280 ADMIN_PORT=18281 DB_PORT=54392
TOKEN="tdm_bench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
MASTER="$(head -c 32 /dev/urandom | base64)"

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
keys: {masterKeys: [{id: bench, key: "$MASTER"}]}
ssh: {knownHostsFile: $WORK/known_hosts}
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

java -Dorg.slf4j.simpleLogger.log.org.apache.sshd=warn -cp "bench/target/bench.jar:$(cat bench/target/classpath.txt)" dev.tandem.bench.SshFanout \
  "http://127.0.0.1:$PORT" "http://127.0.0.1:$ADMIN_PORT" "$TOKEN" "$WORK/known_hosts" "$WORK" "$NODES" "$RUNS" \
  | tail -1 | sed "s/}\$/,\"date\":\"$(date -u +%F)\"}/"
