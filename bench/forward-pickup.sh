#!/usr/bin/env bash
# Benchmark: pickup latency of runs forwarded by a remote execution policy
# (queued in the database, woken by LISTEN/NOTIFY, taken with FOR UPDATE SKIP LOCKED).
# 3 members; every run is sent by member 1 to another member, round-robin.
#   bench/forward-pickup.sh [runs]
# The last line is JSON: pickup p50/p99 from the database's queued_at to started_at.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-1000}"
mvn -B -q -DskipTests package -pl node-runtime,bench -am >&2
CP="bench/target/bench.jar:$(cat bench/target/classpath.txt)"
java -cp "$CP" dev.tandem.bench.DispatchBench node-runtime/target/node-runtime.jar pickup "$RUNS" | tail -1
