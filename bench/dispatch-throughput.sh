#!/usr/bin/env bash
# Benchmark: dispatch throughput, 3 Tandem members vs 3 db-scheduler instances on one
# PostgreSQL (fsync on for both), in two variants: an in-process no-op and /bin/true as a process.
#   bench/dispatch-throughput.sh [runs]
# Prints one JSON line per variant; the last line is the summary of both.
# For profiling: DISPATCH_ONLY=tandem-scheduled runs only Tandem's scheduled rounds (no ratio), and
# DISPATCH_MEMBER_OPTS adds JVM options to each member ({member} becomes t1, t2, t3), e.g.
#   DISPATCH_MEMBER_OPTS='-XX:StartFlightRecording=filename=/tmp/{member}.jfr'.
# Tandem members start processes with vfork (TandemApplication.main); the JVM hosting the
# db-scheduler instances does the same by default, so both sides pay the same for a process start.
# PEER_JAVA_OPTS='' gives the peer the JDK's default (posix_spawn through jspawnhelper) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-2000}"
mvn -B -q -DskipTests package -pl node-runtime,bench -am >&2
CP="bench/target/bench.jar:$(cat bench/target/classpath.txt)"
PEER_JAVA_OPTS="${PEER_JAVA_OPTS--Djdk.lang.Process.launchMechanism=VFORK}"
NOOP=$(java $PEER_JAVA_OPTS -cp "$CP" dev.tandem.bench.DispatchBench node-runtime/target/node-runtime.jar noop "$RUNS" | tail -1)
echo "$NOOP"
PROC=$(java $PEER_JAVA_OPTS -cp "$CP" dev.tandem.bench.DispatchBench node-runtime/target/node-runtime.jar process "$RUNS" | tail -1)
echo "$PROC"
echo "{\"noop\":$NOOP,\"process\":$PROC}"
