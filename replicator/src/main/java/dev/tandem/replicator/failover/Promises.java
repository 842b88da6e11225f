package dev.tandem.replicator.failover;

import java.time.Duration;

/**
 * The promises this passive site gave the active site: while one is fresh (given less than
 * {@code leaseTtl} ago on this process's clock) this site does not promote, whatever the witness
 * says. The active site stays active on promises alone only while it cannot reach the witness.
 */
public final class Promises {
    private final Duration leaseTtl;
    private volatile long lastGivenNanos = -1;
    private volatile String lastTo;

    public Promises(Duration leaseTtl) {
        this.leaseTtl = leaseTtl;
    }

    public void given(String toSite) {
        lastGivenNanos = System.nanoTime();
        lastTo = toSite;
    }

    /** Null when no promise binds this site; else the site it was given to. */
    public String binding() {
        long at = lastGivenNanos;
        return at >= 0 && System.nanoTime() - at < leaseTtl.toNanos() ? lastTo : null;
    }
}
