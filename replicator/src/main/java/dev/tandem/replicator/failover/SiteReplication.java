package dev.tandem.replicator.failover;

import dev.tandem.replicator.failback.DivergenceReport;
import dev.tandem.replicator.transport.PeerPositions;
import java.net.URI;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * What the failover loop asks of this site's replication: the promotion steps, the copy this site
 * follows, the capture it drains or retires, the failback report. The replication controller
 * does it; a test can do it in memory.
 */
public interface SiteReplication {
    /** What a promotion did: its sentence, and the position this site's new slot starts at (-1 if none). */
    record Promotion(String sentence, long slotStart) {}

    /** The site this passive site follows and the last position it applied of it. */
    record Following(String site, long position) {}

    /** True while this replicator leads its site (as of its last cycle). */
    boolean leading();

    /** Stops apply, starts capture on a fresh slot and marks the site active at {@code epoch}; safe to repeat. */
    Promotion promote(long epoch, String url, Supplier<Duration> lease);

    /** True when no apply loop runs, or the one there stopped on a problem. */
    boolean applyStopped();

    /** Null when healthy; else what an operator must know. */
    String problem();

    /** What this site follows now, or null if it holds no copy. */
    Following following();

    /** Replaces this passive site's copy with a fresh one of {@code source} (null: the configured sources); says what happens. */
    String requestReseed(URI source);

    /** Where this site's slot started when it was promoted to {@code epoch}, or -1. */
    long slotStartOf(long epoch);

    /** How far each peer applied this site's changes. */
    PeerPositions peers();

    /** While true, a fenced site keeps capturing (a switchover drains what was committed to the peers). */
    void drainWhileFenced(boolean drain);

    /** Commits one last heartbeat directly and returns the WAL position just before its commit. */
    long finalHeartbeat();

    /** This site now follows another: its capture stops and its slot, offsets and peer positions go. */
    void retireCapture();

    /** The divergence report of this fenced site against what {@code activeSite} applied. */
    DivergenceReport divergenceReport(long epoch, String activeSite, long activeEpoch, long applied);

    /** The next apply loop replaces this site's replicated data with a fresh copy of {@code source} first. */
    void reseedOnNextApply(URI source);
}
