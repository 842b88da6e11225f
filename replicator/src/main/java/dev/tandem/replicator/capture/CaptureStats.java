package dev.tandem.replicator.capture;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.tandem.replicator.stream.Frame;
import java.util.concurrent.atomic.AtomicLong;

/** What the capture has done, for /status and the metrics. */
public final class CaptureStats {
    private final Meter events;
    private final Meter transactions;
    private final AtomicLong lastCommit = new AtomicLong(-1);
    private final AtomicLong confirmed = new AtomicLong(-1);
    private final AtomicLong lastTransactionNanos = new AtomicLong(System.nanoTime());
    private final AtomicLong captureLagMillis = new AtomicLong(-1);

    public CaptureStats(MetricRegistry metrics) {
        this.events = metrics.meter("replicator.capture.events");
        this.transactions = metrics.meter("replicator.capture.transactions");
    }

    void published(Frame frame) {
        events.mark(frame.rows().size());
        if (frame.last()) {
            transactions.mark();
            lastCommit.set(frame.commitLsn());
            lastTransactionNanos.set(System.nanoTime());
            if (frame.commitMillis() > 0) {
                captureLagMillis.set(Math.max(0, System.currentTimeMillis() - frame.commitMillis()));
            }
        }
    }

    /**
     * For the last transaction captured: milliseconds from its commit on the source (the source's
     * clock) to its last frame handed to the transport (this host's clock), or -1 before the first.
     * Display only; it tells whether capture or apply is the one behind.
     */
    public long captureLagMillis() {
        return captureLagMillis.get();
    }

    void confirmed(long lsn) {
        confirmed.set(lsn);
    }

    /** Milliseconds since the capture last delivered a whole transaction (this process's clock). */
    public long millisSinceLastTransaction() {
        return (System.nanoTime() - lastTransactionNanos.get()) / 1_000_000;
    }

    /** Restarts the stall clock (a new capture starts). */
    public void started() {
        lastTransactionNanos.set(System.nanoTime());
    }

    public long lastCommit() {
        return lastCommit.get();
    }

    public long confirmed() {
        return confirmed.get();
    }

    public double eventsPerSecond() {
        return events.getOneMinuteRate();
    }

    public long events() {
        return events.getCount();
    }
}
