package dev.tandem.runtime.nodes;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What every node source shares: read at most once per cache period, and when a read fails keep
 * serving the last good nodes and say why in the status.
 */
abstract class LastGoodNodeSource implements NodeSource {
    private final String description;
    private final String failure;
    private final Duration cache;
    private long readAtNanos;
    private boolean everRead;
    private List<Node> lastGood = List.of();
    private Status status;

    /** @param failure how a failed read starts its status message, e.g. "script failed" */
    LastGoodNodeSource(String description, String failure, Duration cache) {
        this.description = description;
        this.failure = failure;
        this.cache = cache;
        this.status = new Status(description, false, "not read yet", 0);
    }

    /** Reads the nodes afresh; empty when the source says nothing changed since the last read. */
    protected abstract Optional<List<Node>> read() throws Exception;

    @Override
    public final synchronized List<Node> nodes() {
        if (everRead && System.nanoTime() - readAtNanos < cache.toNanos()) {
            return lastGood;
        }
        everRead = true;
        readAtNanos = System.nanoTime();
        try {
            Optional<List<Node>> fresh = read();
            if (fresh.isPresent()) {
                lastGood = List.copyOf(fresh.get());
                status = new Status(description, true, "read " + lastGood.size() + " node(s)", lastGood.size());
            } else {
                status = new Status(description, true, "not modified; serving " + lastGood.size() + " node(s)", lastGood.size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            status = new Status(description, false, failure + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + "; serving the last good " + lastGood.size() + " node(s)", lastGood.size());
        }
        return lastGood;
    }

    @Override
    public final synchronized Status status() {
        return status;
    }
}
