package dev.tandem.runtime.logs;

import java.util.UUID;

/**
 * Where execution logs live. Offsets are opaque positions: a client passes back the
 * {@code nextOffset} it was given.
 */
public interface LogStorage {
    LogWriter open(UUID executionId);

    /** Up to {@code maxEntries} whole lines from {@code offset}; an offset past the end reads nothing. */
    LogPage read(UUID executionId, long offset, int maxEntries);

    void delete(UUID executionId);

    /** Writes and removes a probe, for the health check; throws when storage is unusable. */
    void probe();
}
