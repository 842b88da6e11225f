package dev.tandem.replicator;

import java.time.Duration;

/** {@link LeaseUnderLoadIT} for ten minutes (-Psoak; {@code tandem.load.seconds} to change it), recorded in docs/BENCHMARKS.md. */
class LeaseUnderLoadSoakIT extends LeaseUnderLoadIT {
    @Override
    Duration load() {
        return Duration.ofSeconds(Long.getLong("tandem.load.seconds", 600));
    }
}
