package dev.tandem.replicator.testing;

import dev.tandem.replicator.failback.DivergenceReport;
import dev.tandem.replicator.failover.SiteReplication;
import dev.tandem.replicator.transport.PeerPositions;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * This site's replication as the failover loop drives it, in memory: a promotion activates the
 * {@link MemorySite} and starts a slot at {@link #nextSlotStart}; everything asked of it is noted
 * in the site's log, in order with the site's own changes, so a test reads what the loop did.
 */
public final class MemoryReplication implements SiteReplication {
    private final String siteId;
    private final MemorySite site;
    private final PeerPositions peers;
    private final Map<Long, Long> slotStarts = new HashMap<>();
    public volatile boolean leading = true;
    public volatile boolean applyStopped;
    public volatile String problem;
    public volatile Following following;
    public volatile long nextSlotStart = 5_000;
    public volatile long finalHeartbeat = 1_000;

    public MemoryReplication(String siteId, MemorySite site, List<String> peerSites) {
        this.siteId = siteId;
        this.site = site;
        this.peers = new PeerPositions(new MemoryPositions(), peerSites);
    }

    @Override
    public boolean leading() {
        return leading;
    }

    @Override
    public synchronized Promotion promote(long epoch, String url, Supplier<Duration> lease) {
        Duration writes = lease.get();
        if (!site.activate(epoch, url, writes == null ? null : writes.toNanos())) {
            return new Promotion("site '" + siteId + "' was not promoted: its state changed meanwhile", -1);
        }
        slotStarts.put(epoch, nextSlotStart);
        site.note("promote to epoch " + epoch);
        return new Promotion("site '" + siteId + "' promoted to active at epoch " + epoch, nextSlotStart);
    }

    @Override
    public boolean applyStopped() {
        return applyStopped;
    }

    @Override
    public String problem() {
        return problem;
    }

    @Override
    public Following following() {
        return following;
    }

    @Override
    public synchronized String requestReseed(URI source) {
        site.note("reseed from " + source);
        return "site '" + siteId + "' takes a fresh copy of " + source;
    }

    @Override
    public synchronized long slotStartOf(long epoch) {
        return slotStarts.getOrDefault(epoch, -1L);
    }

    @Override
    public PeerPositions peers() {
        return peers;
    }

    @Override
    public synchronized void drainWhileFenced(boolean drain) {
        site.note("drain while fenced: " + drain);
    }

    @Override
    public synchronized long finalHeartbeat() {
        site.note("final heartbeat at " + finalHeartbeat);
        return finalHeartbeat;
    }

    @Override
    public synchronized void retireCapture() {
        site.note("capture retired");
    }

    @Override
    public synchronized DivergenceReport divergenceReport(long epoch, String activeSite, long activeEpoch, long applied) {
        site.note("divergence report against site '" + activeSite + "' from position " + applied);
        return new DivergenceReport(siteId, epoch, activeSite, activeEpoch, applied, java.time.Instant.EPOCH.toString(), List.of(), 0, null);
    }

    @Override
    public synchronized void reseedOnNextApply(URI source) {
        site.note("reseed on next apply from " + source);
    }
}
