#!/usr/bin/env bash
# Benchmark: takeover time over 20 member kills at the default 1 s heartbeat
# (dead after 5 missed). 3 member processes, 20 jobs firing every second; each round SIGKILLs the
# member owning the most schedules and times kill -> all its schedules owned by live members,
# then restarts it. Also checks no (job, fire time) started twice and none was lost.
#   bench/takeover.sh [kills]
# The last line is JSON (also in node-runtime/target/soak-result.json).
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS="${1:-20}"
mvn -B -q -Psoak verify -pl node-runtime -am -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=ClusterSoakIT -Dsoak.minutes=60 -Dsoak.jobs=20 -Dsoak.killEverySeconds=8 -Dsoak.takeovers="$KILLS" >&2
cat node-runtime/target/soak-result.json
