#!/usr/bin/env bash
# Benchmark: RTO and RPO over whole-site kills at the default timing (interval 1 s,
# fenceAfter 3 s, leaseTtl 4 s, promoteAfter 5 s). Two sites, each a node runtime, a replicator and
# its own PostgreSQL as real processes, an S3 witness; 3 jobs fire every second and a writer commits
# numbered transactions on the active site. Each round SIGKILLs the active site's runtime,
# replicator and database at once and times kill -> first job started on the other site (RTO);
# counts the transactions the dead site had committed that never reached the other (RPO), beside
# the lag the passive site showed just before; then brings the dead site back as a fresh passive
# site, and the next round kills the other side.
#   bench/failover-rto.sh [kills=20]
# The last line is JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS="${1:-20}"
mvn -B -q -DskipTests install -pl s3mock-server,node-runtime,replicator -am >&2
# -Dit.test selects the soak test in the default failsafe execution (with -Psoak it would run twice).
mvn -B -q verify -pl replicator -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=SiteFailoverSoakIT -Dtandem.rto.kills="$KILLS" >&2
grep -h '^kill [0-9]' replicator/target/failsafe-reports/dev.tandem.replicator.SiteFailoverSoakIT-output.txt >&2
grep -h '"benchmark":"failover-rto"' replicator/target/failsafe-reports/dev.tandem.replicator.SiteFailoverSoakIT-output.txt | tail -n 1
