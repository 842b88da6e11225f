#!/usr/bin/env bash
# Benchmark: replication between two sites, side by side on the same two PostgreSQL
# instances: PostgreSQL native logical replication, a bare Debezium engine (the capture ceiling),
# Tandem direct and Tandem over Kafka (in-process KRaft broker).
#   bench/replication.sh [bulkRows=100000] [steadySeconds=20] [backlogRows=1000000]
# Environment: REPLICATION_ONLY=native,debezium,direct,backlog,kafka (a subset runs only those rounds),
#   BULK_WARMUP_RUNS=8 (unmeasured bulk runs first, every contender), BULK_MEASURED_RUNS=5 (measured runs; the
#   median counts, all are in the JSON), STEADY_WARMUP_SECONDS=10 (an
#   unmeasured run at 500 tx/s first), REPLICATOR_JAVA_OPTS (added to both replicators; {site} -> site-transport),
#   SITE_B_NICE=1 (site b's replicator and PostgreSQL at the lowest CPU priority, as on machines of their own),
#   SYNC_BETWEEN_RUNS=0 (skip the `sync` before every bulk and steady run, and before the replicators start on the
#   backlog, that writes out what the preceding runs left dirty), POLL_INTERVAL_MS=10 (Debezium's poll.interval.ms for the
#   bare engine and Tandem's capture alike).
# The last line is JSON: bulk times and rows/s, lag p50/p99 at 500 tx/s, backlog catch-up, ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -DskipTests package -pl replicator,bench -am >&2
CP="bench/target/bench.jar:$(cat bench/target/classpath.txt)"
java -Xmx1g ${BENCH_JAVA_OPTS:-} -cp "$CP" dev.tandem.bench.ReplicationBench replicator/target/replicator.jar "$@" | tail -1
