package dev.tandem.replicator.testing;

import dev.tandem.replicator.failover.LeaseWrites;

/** The site-state row as the lease keeper changes it: the write deadline it last set, and the fence. */
public final class RecordingWrites implements LeaseWrites {
    private long deadlineNanos = Long.MIN_VALUE;
    private String fencedBecause;
    private int extensions;

    @Override
    public synchronized boolean extend(long epoch, long deadline) {
        if (fencedBecause != null) {
            return false;
        }
        deadlineNanos = Math.max(deadlineNanos, deadline);
        extensions++;
        return true;
    }

    @Override
    public synchronized boolean fence(String reason) {
        if (fencedBecause != null) {
            return false;
        }
        fencedBecause = reason;
        return true;
    }

    /** Until when the site may write (on the ticker), or Long.MIN_VALUE if never extended. */
    public synchronized long deadlineNanos() {
        return deadlineNanos;
    }

    public synchronized int extensions() {
        return extensions;
    }

    public synchronized boolean fenced() {
        return fencedBecause != null;
    }

    public synchronized String fencedBecause() {
        return fencedBecause;
    }
}
