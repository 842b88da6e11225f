package dev.tandem.runtime.execution;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records executions' final states, the ones that end together in one write transaction. A
 * caller waits until its own state is committed (or the transaction failed), so each execution
 * still learns whether its record changed. No delay is added to gather a batch: whatever ended
 * while the previous transaction committed goes into the next one.
 */
final class FinalStateWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FinalStateWriter.class);
    static final int MAX_BATCH = 500;

    private record Pending(ExecutionRepository.FinalState state, CompletableFuture<Boolean> recorded) {}

    private final ExecutionRepository executions;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    FinalStateWriter(ExecutionRepository executions) {
        this.executions = executions;
        this.thread = new Thread(this::loop, "tandem-final-states");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Records the final state; true when the record changed (it was still queued or running). */
    boolean record(UUID id, ExecutionStatus status, String reason) {
        if (closed) {
            return executions.finish(id, status, reason);
        }
        Pending pending = new Pending(new ExecutionRepository.FinalState(id, status, reason), new CompletableFuture<>());
        queue.add(pending);
        try {
            while (true) {
                try {
                    return pending.recorded().get(1, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    if (!thread.isAlive() && queue.remove(pending)) {
                        return executions.finish(id, status, reason); // queued just as the writer stopped
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the final state of execution " + id + " was recorded", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
        }
    }

    private void loop() {
        List<Pending> batch = new ArrayList<>();
        while (!closed || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                write(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Throwable e) { // nothing may end this thread while executions wait on it
                LOG.error("Recording {} final state(s) failed unexpectedly", batch.size(), e);
                batch.forEach(p -> p.recorded().completeExceptionally(e));
            } finally {
                batch.clear();
            }
        }
    }

    private void write(List<Pending> batch) {
        List<ExecutionRepository.FinalState> states = new ArrayList<>(batch.size());
        Set<UUID> inBatch = new HashSet<>();
        List<Pending> repeated = new ArrayList<>();
        for (Pending pending : batch) {
            if (inBatch.add(pending.state().id())) {
                states.add(pending.state());
            } else {
                repeated.add(pending); // the same execution twice: only the first can change its record
            }
        }
        Set<UUID> changed;
        try {
            changed = executions.finishAll(states);
        } catch (RuntimeException e) {
            batch.forEach(p -> p.recorded().completeExceptionally(e));
            return;
        }
        for (Pending pending : batch) {
            pending.recorded().complete(!repeated.contains(pending) && changed.contains(pending.state().id()));
        }
    }

    /** Records what is queued, then stops; later calls write directly. */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.join(TimeUnit.SECONDS.toMillis(30));
    }
}
