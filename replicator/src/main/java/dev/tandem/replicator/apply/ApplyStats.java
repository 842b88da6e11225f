package dev.tandem.replicator.apply;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.tandem.replicator.stream.Frame;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What apply has done, for /status. The heartbeat age is measured on this process's monotonic
 * clock (never by comparing two sites' wall clocks).
 */
public final class ApplyStats {
    private final Meter transactions;
    private final Meter events;
    private final AtomicLong applied = new AtomicLong(-1);
    private final AtomicLong sourceCommitMillis = new AtomicLong();
    private final AtomicLong lastHeartbeatNanos = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();

    public ApplyStats(MetricRegistry metrics) {
        this.transactions = metrics.meter("replicator.apply.transactions");
        this.events = metrics.meter("replicator.apply.events");
    }

    void applied(Frame last, boolean heartbeat) {
        transactions.mark();
        applied.set(last.commitLsn());
        sourceCommitMillis.set(last.commitMillis());
        if (heartbeat) {
            lastHeartbeatNanos.set(System.nanoTime());
        }
    }

    public void rows(int count) {
        events.mark(count);
    }

    void duplicateSkipped() {
        duplicates.incrementAndGet();
    }

    public long appliedPosition() {
        return applied.get();
    }

    public void seeded(long position) {
        applied.set(position);
    }

    public long sourceCommitMillis() {
        return sourceCommitMillis.get();
    }

    /** Milliseconds since the last site heartbeat was applied, or -1 if none was. */
    public long heartbeatAgeMillis() {
        long at = lastHeartbeatNanos.get();
        return at == 0 ? -1 : (System.nanoTime() - at) / 1_000_000;
    }

    public long duplicates() {
        return duplicates.get();
    }

    public long transactions() {
        return transactions.getCount();
    }

    public double eventsPerSecond() {
        return events.getOneMinuteRate();
    }
}
