package dev.tandem.replicator.failover;

/**
 * What keeping the write lease changes in the site's database: the deadline of the active site's
 * writes, and the fence. {@link SiteStateRow} writes the site-state row; tests record the calls.
 */
public interface LeaseWrites {
    /**
     * Lets the active site at {@code epoch} accept writes until {@code deadlineNanos} on the loop's
     * ticker (never shortens it). False if the site is no longer active at that epoch.
     */
    boolean extend(long epoch, long deadlineNanos);

    /** Stops the site's writes, recording why. False if it was fenced already. */
    boolean fence(String reason);
}
