package dev.tandem.runtime.logs;

import dev.tandem.kernel.loop.Backoff;
import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dropwizard.lifecycle.Managed;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Execution logs written to a local spool and checkpointed to shared storage (a folder or S3)
 * every {@code checkpointInterval} or {@code checkpointBytes}, whichever comes first, as
 * append-only chunks: each checkpoint uploads only the lines written since the last one. Any
 * member reads a log from shared storage; the member writing it reads its own spool (always the
 * freshest). When the writer closes, the last chunk is uploaded, the stored log is verified
 * against the spool (size and SHA-256), a manifest seals it, and only then is the spool deleted.
 * Uploads that fail are retried with backoff, never blocking the execution; a restarted member
 * uploads the spools it still holds. The backlog shows in metrics and the health check.
 */
public final class SpoolingLogStorage implements LogStorage, Managed {
    private static final Logger LOG = LoggerFactory.getLogger(SpoolingLogStorage.class);
    private static final String SUFFIX = ".jsonl";
    private static final Backoff UPLOAD_RETRY = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30));

    /** Checkpoint policy and where the spool lives. */
    public record Settings(Path spoolDir, Duration checkpointInterval, long checkpointBytes, long maxChunkBytes) {}

    /** What is waiting for shared storage, for the health check. */
    public record Backlog(int logs, long bytes, int failing, String lastError, Instant failingSince) {}

    private final Settings settings;
    private final LogStore store;
    private final ObjectMapper mapper;
    private final Clock clock;
    private final Map<UUID, Spool> spools = new ConcurrentHashMap<>();
    private final ScheduledExecutorService shipper = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tandem-log-shipper");
        t.setDaemon(true);
        return t;
    });
    private final Counter uploads;
    private final Counter uploadFailures;
    private final Counter sealed;

    public SpoolingLogStorage(Settings settings, LogStore store, ObjectMapper mapper, MetricRegistry metrics, Clock clock) {
        this.settings = settings;
        this.store = store;
        this.mapper = mapper;
        this.clock = clock;
        try {
            Files.createDirectories(settings.spoolDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the log spool folder " + settings.spoolDir() + ": " + e.getMessage(), e);
        }
        this.uploads = metrics.counter("tandem.logs.uploads");
        this.uploadFailures = metrics.counter("tandem.logs.upload.failures");
        this.sealed = metrics.counter("tandem.logs.sealed");
        metrics.register("tandem.logs.backlog.bytes", (Gauge<Long>) () -> backlog().bytes());
        metrics.register("tandem.logs.backlog.logs", (Gauge<Integer>) () -> backlog().logs());
        metrics.register("tandem.logs.backlog.failing", (Gauge<Integer>) () -> backlog().failing());
    }

    /** Picks up spools a previous run of this member left (it stopped or died before they were stored), then starts shipping. */
    @Override
    public void start() throws IOException {
        try (Stream<Path> files = Files.list(settings.spoolDir())) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(SUFFIX)).toList()) {
                String name = file.getFileName().toString();
                UUID id;
                try {
                    id = UUID.fromString(name.substring(0, name.length() - SUFFIX.length()));
                } catch (IllegalArgumentException e) {
                    continue;
                }
                spools.computeIfAbsent(id, key -> Spool.recovered(key, file));
            }
        }
        long left = spools.values().stream().filter(s -> s.recovered).count();
        if (left > 0) {
            LOG.info("{} log spool(s) left by an earlier run of this member; uploading them to {}", left, store.describe());
        }
        long tick = Math.max(50, Math.min(200, settings.checkpointInterval().toMillis() / 5));
        shipper.scheduleWithFixedDelay(this::shipAll, tick, tick, TimeUnit.MILLISECONDS);
    }

    /** Stops shipping; what is not stored yet stays in the spool and is uploaded at the next start. */
    @Override
    public void stop() throws InterruptedException {
        shipper.shutdown();
        if (!shipper.awaitTermination(10, TimeUnit.SECONDS)) {
            shipper.shutdownNow();
        }
        for (Spool spool : spools.values()) {
            spool.closeQuietly();
        }
        if (store instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                LOG.debug("Closing {} failed: {}", store.describe(), e.getMessage());
            }
        }
    }

    @Override
    public LogWriter open(UUID executionId) {
        Path file = settings.spoolDir().resolve(executionId + SUFFIX);
        Spool spool;
        try {
            spool = Spool.create(executionId, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the log spool of execution " + executionId + " in " + file + ": " + e.getMessage(), e);
        }
        spools.put(executionId, spool);
        return new LogWriter() {
            @Override
            public void append(LogEntry entry) {
                byte[] line;
                try {
                    line = mapper.writeValueAsBytes(entry);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                // One early checkpoint request at a time: a fast writer must not queue a task per line.
                if (spool.append(line) >= settings.checkpointBytes() && spool.shipRequested.compareAndSet(false, true)) {
                    requestShip(spool, false);
                }
            }

            @Override
            public void close() {
                spool.close();
                requestShip(spool, true);
            }
        };
    }

    /** During shutdown the shipper is gone: the spool stays on disk and is uploaded at the next start. */
    private void requestShip(Spool spool, boolean now) {
        try {
            shipper.execute(() -> ship(spool, now));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.info("Log of execution {} stays in the spool until this member starts again (shutting down)", spool.id);
        }
    }

    @Override
    public LogPage read(UUID executionId, long offset, int maxEntries) {
        Spool local = spools.get(executionId);
        if (local != null && !local.recovered) {
            try {
                return local.read(offset, maxEntries, mapper);
            } catch (NoSuchFileException e) {
                // sealed and deleted just now: the stored copy is complete
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the log spool of execution " + executionId + ": " + e.getMessage(), e);
            }
        }
        try {
            return readStored(executionId, offset, maxEntries);
        } catch (IOException e) {
            throw new LogStorageUnavailableException("the log of execution " + executionId + " cannot be read from "
                    + store.describe() + ": " + e.getMessage(), e);
        }
    }

    private LogPage readStored(UUID id, long offset, int max) throws IOException {
        List<LogStore.Chunk> chunks = contiguous(id, store.chunksForReading(id));
        long size = chunks.isEmpty() ? 0 : chunks.get(chunks.size() - 1).end();
        // Sealed only when the chunks this listing shows reach the manifest's size: a lagging listing
        // (NFS attribute caches, eventually consistent servers) must not end a follower early.
        boolean isSealed = store.manifest(id).map(json -> manifestSize(id, json) == size).orElse(false);
        if (offset >= size) {
            return new LogPage(List.of(), offset, offset, size, isSealed);
        }
        List<LogEntry> entries = new ArrayList<>();
        long position = offset;
        for (LogStore.Chunk chunk : chunks) {
            if (chunk.end() <= position || entries.size() >= max || position - offset >= LogLines.MAX_PAGE_BYTES) {
                continue;
            }
            long skip = position - chunk.offset();
            // One request reads the byte before the offset (it must end a line) and the lines after it.
            try (InputStream in = store.openChunk(id, chunk, skip > 0 ? skip - 1 : 0)) {
                if (skip > 0 && in.read() != '\n') {
                    throw new IllegalArgumentException("offset " + offset + " is not the start of a line; pass back a nextOffset you were given");
                }
                position += LogLines.read(in, entries, max, LogLines.MAX_PAGE_BYTES - (position - offset), mapper, id);
            }
        }
        return new LogPage(entries, offset, position, size, isSealed);
    }

    private long manifestSize(UUID id, byte[] json) {
        try {
            return mapper.readTree(json).path("size").asLong(-1);
        } catch (IOException e) {
            LOG.warn("Log of execution {}: its manifest cannot be read: {}", id, e.getMessage());
            return -1;
        }
    }

    /** The chunks from offset 0 without a gap (a gap can only follow a failed upload that is being retried). */
    private static List<LogStore.Chunk> contiguous(UUID id, List<LogStore.Chunk> chunks) {
        List<LogStore.Chunk> out = new ArrayList<>();
        long expected = 0;
        for (LogStore.Chunk chunk : chunks) {
            if (chunk.offset() != expected) {
                LOG.warn("Log of execution {}: stored chunks jump from {} to {}; reading up to the gap", id, expected, chunk.offset());
                break;
            }
            out.add(chunk);
            expected = chunk.end();
        }
        return out;
    }

    @Override
    public void delete(UUID executionId) {
        Spool spool = spools.remove(executionId);
        if (spool != null) {
            spool.removed = true;
            spool.closeQuietly();
        }
        // On the shipper thread, so no upload or seal of this log is half way through while it is deleted.
        java.util.concurrent.Future<?> done;
        try {
            done = shipper.submit(() -> {
                if (spool != null) {
                    Files.deleteIfExists(spool.file);
                }
                store.delete(executionId);
                return null;
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            throw new IllegalStateException("log storage is stopping; delete the log of execution " + executionId + " later", e);
        }
        try {
            done.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new UncheckedIOException("cannot delete the log of execution " + executionId + " from " + store.describe() + ": "
                    + e.getCause().getMessage(), e.getCause() instanceof IOException io ? io : new IOException(e.getCause()));
        } catch (java.util.concurrent.TimeoutException e) {
            throw new UncheckedIOException(new IOException("deleting the log of execution " + executionId + " did not finish within 60 s"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while deleting the log of execution " + executionId, e);
        }
    }

    @Override
    public void probe() {
        try {
            store.probe();
        } catch (IOException e) {
            throw new UncheckedIOException("log storage " + store.describe() + " is not writable: " + e.getMessage(), e);
        }
    }

    /** Logs not yet sealed in shared storage: open ones, and finished ones whose upload is pending or failing. */
    public Backlog backlog() {
        int logs = 0;
        long bytes = 0;
        int failing = 0;
        String lastError = null;
        Instant since = null;
        for (Spool spool : spools.values()) {
            logs++;
            bytes += spool.unshipped();
            if (spool.failingSince != null) {
                failing++;
                if (since == null || spool.failingSince.isBefore(since)) {
                    since = spool.failingSince;
                    lastError = spool.lastError;
                }
            }
        }
        return new Backlog(logs, bytes, failing, lastError, since);
    }

    public String describe() {
        return store.describe();
    }

    /** Waits (for tests and orderly shutdown) until every closed spool is sealed, or the deadline passes. */
    public boolean drained(Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (spools.values().stream().noneMatch(s -> s.closed)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    private void shipAll() {
        // A periodic task that throws is never run again: nothing may escape this loop.
        try {
            for (Spool spool : spools.values()) {
                ship(spool, false);
            }
        } catch (Throwable e) {
            LOG.error("Log shipping cycle failed; it runs again at the next tick", e);
        }
    }

    /** One checkpoint of one spool, if due; seals it when its writer closed and all is stored. Runs on the shipper thread only. */
    private void ship(Spool spool, boolean now) {
        spool.shipRequested.set(false);
        long nanos = System.nanoTime();
        if (spool.removed || nanos < spool.nextAttemptNanos) {
            return;
        }
        try {
            if (spool.recovered && spool.resync) {
                spool.truncatePartialLine();
                spool.shipped = contiguous(spool.id, store.chunks(spool.id)).stream().mapToLong(LogStore.Chunk::end).max().orElse(0);
                spool.resync = false;
            }
            // Read 'closed' before flushing: once closed, nothing is written after the flush, so 'flushed' is the whole log.
            boolean wasClosed = spool.closed;
            long flushed = spool.flush();
            long pending = flushed - spool.shipped;
            boolean due = pending >= settings.checkpointBytes() || wasClosed
                    || (pending > 0 && (now || nanos - spool.lastShipNanos >= settings.checkpointInterval().toNanos()));
            if (pending > 0 && due) {
                // A retry sends exactly the range that failed: the object at this offset never changes length.
                long length = spool.retryLength > 0 ? spool.retryLength
                        : spool.lineBoundary(spool.shipped, Math.min(pending, settings.maxChunkBytes()), flushed);
                spool.retryLength = length;
                store.putChunk(spool.id, spool.shipped, spool.file, spool.shipped, length);
                spool.retryLength = 0;
                spool.shipped += length;
                spool.lastShipNanos = nanos;
                uploads.inc();
                if (spool.shipped < flushed && wasClosed) {
                    requestShip(spool, true);
                }
            }
            if (wasClosed && spool.shipped == flushed) {
                seal(spool, flushed);
            }
            if (spool.failingSince != null) {
                LOG.info("Log of execution {}: uploads to {} work again", spool.id, store.describe());
            }
            spool.failures = 0;
            spool.failingSince = null;
            spool.lastError = null;
            spool.nextAttemptNanos = 0;
        } catch (IOException | RuntimeException | Error e) {
            if (e instanceof Error) {
                LOG.error("Log of execution {}: upload failed with {}", spool.id, e, e);
            }
            uploadFailures.inc();
            spool.failures++;
            long backoff = UPLOAD_RETRY.after(spool.failures).toMillis();
            spool.nextAttemptNanos = nanos + TimeUnit.MILLISECONDS.toNanos(backoff);
            spool.lastError = String.valueOf(e.getMessage());
            if (spool.failingSince == null) {
                spool.failingSince = clock.instant();
            }
            LOG.warn("Log of execution {}: upload to {} failed ({} in a row), {} bytes kept in the spool; retrying in {} ms: {}",
                    spool.id, store.describe(), spool.failures, spool.unshipped(), backoff, e.getMessage());
        }
    }

    /** Verifies the stored log against the spool (size, SHA-256), writes the manifest, then deletes the spool. */
    private void seal(Spool spool, long size) throws IOException {
        String expected = sha256(spool.file, size);
        List<LogStore.Chunk> chunks = contiguous(spool.id, store.chunks(spool.id));
        long stored = chunks.isEmpty() ? 0 : chunks.get(chunks.size() - 1).end();
        if (stored != size) {
            spool.shipped = stored;
            throw new IOException("stored log has " + stored + " bytes, the spool " + size + "; uploading the rest again");
        }
        MessageDigest digest = sha256();
        for (LogStore.Chunk chunk : chunks) {
            try (InputStream in = store.openChunk(spool.id, chunk, 0)) {
                byte[] buffer = new byte[65536];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    digest.update(buffer, 0, n);
                }
            }
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        if (!actual.equals(expected)) {
            store.delete(spool.id);
            spool.shipped = 0;
            throw new IOException("stored log's SHA-256 " + actual + " differs from the spool's " + expected + "; uploading it again");
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("execution", spool.id.toString());
        manifest.put("size", size);
        manifest.put("sha256", expected);
        manifest.put("chunks", chunks.size());
        manifest.put("sealedAt", clock.instant().toString());
        store.putManifest(spool.id, mapper.writeValueAsBytes(manifest));
        spool.removed = true;
        spools.remove(spool.id, spool);
        Files.deleteIfExists(spool.file);
        sealed.inc();
    }

    private static String sha256(Path file, long size) throws IOException {
        MessageDigest digest = sha256();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(65536);
            long position = 0;
            while (position < size) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), size - position));
                int n = channel.read(buffer, position);
                if (n < 0) {
                    throw new IOException("the spool " + file + " is shorter than " + size + " bytes");
                }
                digest.update(buffer.flip());
                position += n;
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One execution's local spool file and how much of it is in shared storage. */
    private static final class Spool {
        final UUID id;
        final Path file;
        final boolean recovered;
        private OutputStream out;
        private long written;
        private long flushedBytes;
        volatile boolean closed;
        volatile boolean removed;
        final java.util.concurrent.atomic.AtomicBoolean shipRequested = new java.util.concurrent.atomic.AtomicBoolean();
        volatile long shipped;
        long retryLength;
        boolean resync;
        long lastShipNanos = System.nanoTime();
        long nextAttemptNanos;
        int failures;
        volatile String lastError;
        volatile Instant failingSince;

        private Spool(UUID id, Path file, boolean recovered) {
            this.id = id;
            this.file = file;
            this.recovered = recovered;
            this.resync = recovered;
        }

        static Spool create(UUID id, Path file) throws IOException {
            Spool spool = new Spool(id, file, false);
            spool.out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND), 65536);
            spool.written = Files.size(file);
            spool.flushedBytes = spool.written;
            return spool;
        }

        static Spool recovered(UUID id, Path file) {
            Spool spool = new Spool(id, file, true);
            spool.closed = true;
            try {
                spool.written = Files.size(file);
            } catch (IOException e) {
                spool.written = 0;
            }
            spool.flushedBytes = spool.written;
            return spool;
        }

        /** Returns how many bytes are not yet in shared storage. */
        synchronized long append(byte[] line) {
            if (closed) {
                throw new IllegalStateException("the log of execution " + id + " is closed");
            }
            try {
                out.write(line);
                out.write('\n');
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the log spool " + file + ": " + e.getMessage(), e);
            }
            written += line.length + 1;
            return written - shipped;
        }

        synchronized long flush() throws IOException {
            if (out != null && flushedBytes < written) {
                out.flush();
                flushedBytes = written;
            }
            return flushedBytes;
        }

        synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                out.flush();
                flushedBytes = written;
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot close the log spool " + file + ": " + e.getMessage(), e);
            }
        }

        synchronized void closeQuietly() {
            if (out != null) {
                try {
                    out.flush();
                    flushedBytes = written;
                    out.close();
                } catch (IOException ignored) {
                    // the spool stays on disk; it is uploaded at the next start
                }
            }
        }

        long unshipped() {
            return Math.max(0, written - shipped);
        }

        LogPage read(long offset, int max, ObjectMapper mapper) throws IOException {
            boolean complete = closed; // before the flush: once closed, the flushed size is the whole log
            long size = flush();
            if (offset >= size) {
                return new LogPage(List.of(), offset, offset, size, complete);
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                if (offset > 0) {
                    ByteBuffer previous = ByteBuffer.allocate(1);
                    channel.read(previous, offset - 1);
                    if (previous.get(0) != '\n') {
                        throw new IllegalArgumentException("offset " + offset + " is not the start of a line; pass back a nextOffset you were given");
                    }
                }
                channel.position(offset);
                List<LogEntry> entries = new ArrayList<>();
                InputStream in = new java.io.FilterInputStream(java.nio.channels.Channels.newInputStream(channel)) {
                    private long left = size - offset;

                    @Override
                    public int read() throws IOException {
                        return left-- > 0 ? super.read() : -1;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        if (left <= 0) {
                            return -1;
                        }
                        int n = super.read(b, off, (int) Math.min(len, left));
                        if (n > 0) {
                            left -= n;
                        }
                        return n;
                    }
                };
                long consumed = LogLines.read(in, entries, max, mapper, id);
                return new LogPage(entries, offset, offset + consumed, size, complete);
            }
        }

        /**
         * The length from {@code start} of at most {@code limit} bytes that ends at a line end; if
         * one line is longer than the limit, up to the end of that line (never past {@code end}).
         */
        long lineBoundary(long start, long limit, long end) throws IOException {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer one = ByteBuffer.allocate(1);
                for (long length = limit; length > 0; length--) {
                    one.clear();
                    channel.read(one, start + length - 1);
                    if (one.get(0) == '\n') {
                        return length;
                    }
                }
                for (long length = limit + 1; start + length <= end; length++) {
                    one.clear();
                    channel.read(one, start + length - 1);
                    if (one.get(0) == '\n') {
                        return length;
                    }
                }
            }
            throw new IOException("no whole line from " + start + " to " + end + " of " + file);
        }

        /** A member that died mid-write may leave half a line at the end; it is not valid JSON, so it is cut (and said so). */
        void truncatePartialLine() throws IOException {
            long size = Files.size(file);
            if (size == 0) {
                return;
            }
            long keep;
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer one = ByteBuffer.allocate(1);
                keep = size;
                while (keep > 0) {
                    one.clear();
                    channel.read(one, keep - 1);
                    if (one.get(0) == '\n') {
                        break;
                    }
                    keep--;
                }
                if (keep < size) {
                    channel.truncate(keep);
                    LOG.warn("Log spool of execution {} ended in half a line ({} bytes) written when its member stopped; that part is dropped",
                            id, size - keep);
                }
            }
            synchronized (this) {
                written = keep;
                flushedBytes = keep;
            }
        }
    }

    /** Thrown when shared storage cannot be read; the API answers 503. */
    public static final class LogStorageUnavailableException extends RuntimeException {
        public LogStorageUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

}
