package dev.tandem.replicator.transport;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.tandem.replicator.stream.Frame;
import dev.tandem.replicator.stream.FrameSink;
/**
 * The direct transport's memory: every frame of every source transaction that some passive site
 * has not yet durably applied. Frames leave only when all configured passive sites acknowledged
 * their transaction; while the buffer is over its byte budget the capture waits (backpressure),
 * unless the oldest transaction is still incomplete (it cannot be acknowledged before it ends).
 */
public final class ChangeBuffer implements FrameSink {
    /** Only what the buffer needs of a frame (the rows themselves are kept encoded, and counted). */
    private record Entry(long index, boolean last, long commitLsn, byte[] encoded) {}

    private final PeerPositions peers;
    private final long maxBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Deque<Entry> entries = new ArrayDeque<>();
    private long nextIndex;
    private long bytes;
    /** Every transaction that commits after this position is (or will be) in the buffer. */
    private long retainedAfter;
    private long newestCommit;
    private boolean closed;

    public ChangeBuffer(PeerPositions peers, long maxBytes, long retainedAfter) {
        this.peers = peers;
        this.maxBytes = maxBytes;
        this.retainedAfter = retainedAfter;
        this.newestCommit = retainedAfter;
    }

    @Override
    public void publish(Frame frame) throws InterruptedException {
        byte[] encoded = Frames.encode(frame);
        lock.lock();
        try {
            while (!closed && bytes > maxBytes && headTransactionComplete()) {
                trim();
                if (bytes > maxBytes && headTransactionComplete()) {
                    changed.await(100, TimeUnit.MILLISECONDS);
                }
            }
            if (frame.last() && frame.commitLsn() <= retainedAfter && frame.seq() == 0) {
                return; // replayed after a capture restart; every passive site has it
            }
            entries.addLast(new Entry(nextIndex++, frame.last(), frame.last() ? frame.commitLsn() : -1, encoded));
            bytes += encoded.length;
            if (frame.last()) {
                newestCommit = Math.max(newestCommit, frame.commitLsn());
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long appliedEverywhere() {
        return peers.minimum();
    }

    /** A passive site acknowledges what it has durably applied. */
    public void acknowledge(String site, long appliedLsn) {
        peers.record(site, appliedLsn);
        lock.lock();
        try {
            trim();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public long retainedAfter() {
        lock.lock();
        try {
            return retainedAfter;
        } finally {
            lock.unlock();
        }
    }

    /** The newest commit position this buffer has received (or resumed from). */
    public long newestCommit() {
        lock.lock();
        try {
            return newestCommit;
        } finally {
            lock.unlock();
        }
    }

    public long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Where a reader that has applied everything up to {@code after} starts: the index of the first
     * frame of the first transaction that commits after it (or of an unfinished one).
     *
     * @throws IllegalStateException when the buffer no longer holds what the reader needs
     */
    public long startIndex(long after) {
        lock.lock();
        try {
            if (after < retainedAfter) {
                throw new PositionLostException(after, retainedAfter);
            }
            long start = nextIndex;
            long txStart = -1;
            for (Entry e : entries) {
                if (txStart < 0) {
                    txStart = e.index();
                }
                if (e.last()) {
                    if (e.commitLsn() > after) {
                        return txStart;
                    }
                    txStart = -1;
                }
            }
            return txStart >= 0 ? txStart : start;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The frames from {@code index} on, waiting up to {@code waitMillis} for the first one.
     * Returns an empty list on timeout.
     */
    public List<byte[]> read(long index, int maxFrames, long waitMillis) throws InterruptedException {
        lock.lock();
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
            while (!closed && index >= nextIndex) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return List.of();
                }
                changed.awaitNanos(left);
            }
            if (closed) {
                throw new IllegalStateException("the capture stopped");
            }
            Entry head = entries.peekFirst();
            if (head == null || index < head.index()) {
                throw new IllegalStateException("frame " + index + " has left the buffer (acknowledged by every passive site)");
            }
            List<byte[]> out = new ArrayList<>();
            for (Entry e : entries) {
                if (e.index() >= index) {
                    out.add(e.encoded());
                    if (out.size() >= maxFrames) {
                        break;
                    }
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private boolean headTransactionComplete() {
        for (Entry e : entries) {
            if (e.last()) {
                return true;
            }
        }
        return false;
    }

    /** Drops whole transactions every passive site has applied. */
    private void trim() {
        long applied = peers.minimum();
        if (applied < 0) {
            return;
        }
        while (true) {
            long count = 0;
            Long commit = null;
            for (Entry e : entries) {
                count++;
                if (e.last()) {
                    commit = e.commitLsn();
                    break;
                }
            }
            if (commit == null || commit > applied) {
                return;
            }
            for (long i = 0; i < count; i++) {
                bytes -= entries.removeFirst().encoded().length;
            }
            retainedAfter = Math.max(retainedAfter, commit);
        }
    }

    /** The reader asks for changes older than anything this site still holds. */
    public static final class PositionLostException extends IllegalStateException {
        public PositionLostException(long after, long retainedAfter) {
            super("changes after position " + after + " were requested, but this site holds only those after "
                    + retainedAfter + ": the passive site must be reseeded");
        }
    }
}
