package dev.tandem.replicator.failover;

import java.time.Duration;

/**
 * The failover timing (DESIGN.md invariant 3), each measured on the measuring side's own monotonic
 * clock: the holder's writes stop at {@code fenceAfter} after it sent its last successful renewal
 * (plus at most {@code fenceTime} for a write transaction already past the gate), a contender
 * takes the lease only after one version stayed unchanged for {@code leaseTtl}, and a passive site
 * promotes only after {@code promoteAfter} without the active site's heartbeats.
 *
 * @param automatic promote without an operator when the active site is silent
 * @param siteUrl this site's public URL, recorded as the active site's URL when it promotes
 */
public record FailoverSettings(boolean automatic, Duration interval, Duration fenceAfter, Duration fenceTime, Duration leaseTtl,
                               Duration promoteAfter, Duration witnessTimeout, String siteUrl) {

    /** Checked at start-up when a witness is configured (without one, nothing is timed by the lease). */
    public FailoverSettings validated() {
        String problem = problem(interval, fenceAfter, fenceTime, leaseTtl, promoteAfter, witnessTimeout);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return this;
    }

    /** Null when the timing is safe; otherwise what is wrong, naming the settings. */
    public static String problem(Duration interval, Duration fenceAfter, Duration fenceTime, Duration leaseTtl, Duration promoteAfter,
                                 Duration witnessTimeout) {
        if (fenceAfter.compareTo(interval.multipliedBy(2)) < 0) {
            return "failover.fenceAfter (" + fenceAfter.toMillis() + " ms) must be at least two replication.interval ("
                    + interval.toMillis() + " ms): one late renewal must not fence the active site";
        }
        if (fenceAfter.plus(fenceTime).compareTo(leaseTtl) >= 0) {
            return "failover.fenceAfter + failover.fenceTime (" + fenceAfter.plus(fenceTime).toMillis() + " ms) must be less than "
                    + "failover.leaseTtl (" + leaseTtl.toMillis() + " ms): the old holder must have stopped writing before anyone can "
                    + "take its lease";
        }
        if (leaseTtl.compareTo(promoteAfter) >= 0) {
            return "failover.leaseTtl (" + leaseTtl.toMillis() + " ms) must be less than failover.promoteAfter ("
                    + promoteAfter.toMillis() + " ms)";
        }
        if (witnessTimeout.compareTo(interval) > 0) {
            return "failover.witness.timeout (" + witnessTimeout.toMillis() + " ms) must not exceed replication.interval ("
                    + interval.toMillis() + " ms): a slow witness must not delay renewals past the fence deadline";
        }
        return null;
    }
}
