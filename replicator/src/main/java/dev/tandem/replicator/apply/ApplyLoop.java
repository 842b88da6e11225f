package dev.tandem.replicator.apply;

/** Receives the active site's frames by some transport and applies them here, on its own thread. */
public interface ApplyLoop extends AutoCloseable {
    void start();

    /** Null while healthy; otherwise why apply is not progressing. */
    String problem();

    /** True when apply stopped for a reason that retrying will not fix by itself (schema, epoch). */
    boolean stopped();

    /** True when apply keeps failing (still retrying): an operator should look. */
    boolean stalled();

    /**
     * Before a promotion: waits up to {@code within} until everything the transport still holds
     * was applied; returns what happened, as a sentence.
     */
    default String drain(java.time.Duration within) {
        return "apply stopped";
    }

    @Override
    void close();
}
