package dev.tandem.runtime.logs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Shared storage every member reads logs from: a folder (local or network) or S3. A log is a
 * series of immutable chunks, each named by the byte offset where it starts in the execution's
 * JSON-lines log, plus a manifest once the log is complete. Chunks are only ever added, so a
 * checkpoint never re-uploads what was shipped before.
 */
public interface LogStore {
    /** A stored piece of one log: bytes {@code [offset, offset + size)}. */
    record Chunk(long offset, long size) {
        public long end() {
            return offset + size;
        }
    }

    /** Stores {@code length} bytes of {@code file} from {@code position} as the chunk at {@code offset}, durably. */
    void putChunk(UUID executionId, long offset, Path file, long position, long length) throws IOException;

    /** The log's chunks by offset (empty when none), for the member writing the log. */
    List<Chunk> chunks(UUID executionId) throws IOException;

    /** The same, for readers (a store may serve them from separate connections). */
    default List<Chunk> chunksForReading(UUID executionId) throws IOException {
        return chunks(executionId);
    }

    /** The chunk's bytes from {@code skip} on. */
    InputStream openChunk(UUID executionId, Chunk chunk, long skip) throws IOException;

    void putManifest(UUID executionId, byte[] json) throws IOException;

    Optional<byte[]> manifest(UUID executionId) throws IOException;

    void delete(UUID executionId) throws IOException;

    /** Writes and removes a probe; throws when the store is unusable. */
    void probe() throws IOException;

    /** Where the logs go, for messages: a folder or an S3 location. */
    String describe();
}
