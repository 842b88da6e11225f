package dev.tandem.replicator.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.replicator.stream.FrameSink;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Debezium embedded engine over this site's database (pgoutput, one publication over schema
 * {@code tandem}, transaction metadata on), cut into frames and handed to a {@link FrameSink}.
 * Slot safety: only the end record of a transaction that every passive site has applied is ever
 * marked processed, so the slot's confirmed position never passes what every site applied.
 */
public final class CaptureEngine implements AutoCloseable {
    public enum State { NEW, STARTING, RUNNING, STOPPING, STOPPED, FAILED }

    private static final Logger LOG = LoggerFactory.getLogger(CaptureEngine.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_UNCONFIRMED = 100_000;
    /** Transactions at least this large are logged when captured (with how long after their commit). */
    private static final long LARGE_TRANSACTION_ROWS = 10_000;

    private final CaptureSettings settings;
    private final long epoch;
    private final CaptureStats stats;
    private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
    private final Deque<RecordChangeEvent<SourceRecord>> unconfirmedEnds = new ArrayDeque<>();
    private volatile Throwable failure;
    private DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private ExecutorService runner;
    /** The engine's run on {@link #runner}: done once its thread left it (its replication connection closed). */
    private java.util.concurrent.Future<?> running;

    public CaptureEngine(CaptureSettings settings, long epoch, CaptureStats stats) {
        this.settings = settings;
        this.epoch = epoch;
        this.stats = stats;
    }

    /**
     * Where capture resumes: every transaction that commits after {@code position} will be delivered.
     * {@code recreatedAfterLoss} says the slot had been invalidated and was created anew: what it
     * held is gone, and every passive site must be reseeded.
     */
    public record Prepared(long position, boolean recreatedAfterLoss) {}

    /**
     * Creates the publication and the slot when missing (and recreates an invalidated slot) and
     * returns the position after which every committed transaction will be delivered.
     */
    public Prepared prepare() {
        try (Connection c = DriverManager.getConnection(settings.jdbcUrl(), settings.user(), settings.password());
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_publication WHERE pubname = '" + settings.publication() + "'")) {
                if (!rs.next()) {
                    s.execute("CREATE PUBLICATION " + settings.publication() + " FOR TABLES IN SCHEMA tandem");
                    LOG.info("Created publication {} over schema tandem", settings.publication());
                }
            }
            try (ResultSet rs = s.executeQuery("SHOW max_slot_wal_keep_size")) {
                rs.next();
                if ("-1".equals(rs.getString(1))) {
                    throw new IllegalStateException("max_slot_wal_keep_size is -1 (unlimited) on site '" + settings.siteId()
                            + "': a passive site that stays away would make the slot keep WAL until the disk is full; "
                            + "set a bound (e.g. ALTER SYSTEM SET max_slot_wal_keep_size = '10GB') and reload");
                }
            }
            boolean lost = false;
            Long confirmed = null;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT (confirmed_flush_lsn - '0/0')::bigint, wal_status FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, settings.slot());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        lost = "lost".equals(rs.getString(2));
                        confirmed = lost ? null : rs.getLong(1);
                    }
                }
            }
            if (lost) {
                LOG.error("Replication slot {} was invalidated (it held more WAL than max_slot_wal_keep_size): the changes it held "
                        + "are gone. Recreating it so new changes are kept; every passive site must be reseeded", settings.slot());
                try (PreparedStatement drop = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
                    drop.setString(1, settings.slot());
                    drop.execute();
                }
                s.execute("DELETE FROM tandem_local.capture_offsets");
            }
            if (confirmed == null) {
                try (PreparedStatement create = c.prepareStatement(
                        "SELECT (lsn - '0/0')::bigint FROM pg_create_logical_replication_slot(?, 'pgoutput')")) {
                    create.setString(1, settings.slot());
                    try (ResultSet created = create.executeQuery()) {
                        created.next();
                        confirmed = created.getLong(1);
                    }
                }
                LOG.info("Created replication slot {} at position {}", settings.slot(), confirmed);
            }
            return new Prepared(Math.max(confirmed, storedCommit(s)), lost);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot prepare capture of site '" + settings.siteId() + "' at "
                    + settings.jdbcUrl() + ": " + e.getMessage(), e);
        }
    }

    private static long storedCommit(Statement s) throws SQLException {
        long commit = 0;
        try (ResultSet rs = s.executeQuery("SELECT value FROM tandem_local.capture_offsets WHERE value IS NOT NULL")) {
            while (rs.next()) {
                try {
                    JsonNode offset = JSON.readTree(rs.getBytes(1));
                    commit = Math.max(commit, offset.path("lsn_commit").asLong(0));
                } catch (IOException e) {
                    throw new IllegalStateException("tandem_local.capture_offsets holds an unreadable offset: " + e.getMessage(), e);
                }
            }
        }
        return commit;
    }

    /** Starts streaming; {@code resumedAfter} is what {@link #prepare()} returned. */
    public void start(FrameSink sink, long resumedAfter) {
        if (!state.compareAndSet(State.NEW, State.STARTING)) {
            throw new IllegalStateException("capture of site '" + settings.siteId() + "' cannot start from state " + state.get());
        }
        TransactionAssembler assembler = new TransactionAssembler(settings.siteId(), () -> epoch, settings.maxFrameRows(), resumedAfter);
        engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(properties())
                .notifying((records, committer) -> {
                    State now = state.get();
                    if (now == State.STOPPING || now == State.STOPPED) {
                        // close() came while Debezium would not stop yet (its task was starting):
                        // deliver and confirm nothing; failing the batch makes the engine stop
                        // itself and release the slot.
                        throw new IllegalStateException("capture of site '" + settings.siteId() + "' was closed");
                    }
                    for (RecordChangeEvent<SourceRecord> event : records) {
                        SourceRecord record = event.record();
                        for (TransactionAssembler.Assembled assembled : assembler.accept(record)) {
                            sink.publish(assembled.frame());
                            stats.published(assembled.frame());
                            if (assembled.endRecord() != null) {
                                if (assembled.transactionRows() >= LARGE_TRANSACTION_ROWS && assembled.frame().commitMillis() > 0) {
                                    LOG.info("Captured transaction {} ({} rows) {} ms after its commit", assembled.frame().xid(),
                                            assembled.transactionRows(), System.currentTimeMillis() - assembled.frame().commitMillis());
                                }
                                unconfirmedEnds.addLast(event);
                                if (unconfirmedEnds.size() > MAX_UNCONFIRMED) {
                                    // Forgetting the oldest candidate only confirms less far: still safe.
                                    unconfirmedEnds.pollFirst();
                                }
                            }
                        }
                    }
                    confirmApplied(sink.appliedEverywhere(), committer);
                    committer.markBatchFinished();
                })
                .using((success, message, error) -> {
                    State now = state.get();
                    if (!success && (now == State.RUNNING || now == State.STARTING)) {
                        failure = error != null ? error : new IllegalStateException(message);
                        state.set(State.FAILED);
                        LOG.error("Capture of site '{}' stopped: {}", settings.siteId(), message, error);
                    }
                })
                .build();
        runner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "capture-" + settings.siteId());
            t.setDaemon(true);
            return t;
        });
        running = runner.submit(engine);
        state.compareAndSet(State.STARTING, State.RUNNING);
        LOG.info("Capturing site '{}' (epoch {}) from slot {} of {}", settings.siteId(), epoch, settings.slot(), settings.jdbcUrl());
    }

    private void confirmApplied(long appliedEverywhere,
                                DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) throws InterruptedException {
        RecordChangeEvent<SourceRecord> newest = null;
        while (!unconfirmedEnds.isEmpty() && commitOf(unconfirmedEnds.peekFirst()) <= appliedEverywhere) {
            newest = unconfirmedEnds.pollFirst();
        }
        if (newest != null) {
            committer.markProcessed(newest);
            stats.confirmed(commitOf(newest));
        }
    }

    private static long commitOf(RecordChangeEvent<SourceRecord> end) {
        return (Long) end.record().sourceOffset().get("lsn_commit");
    }

    public long epoch() {
        return epoch;
    }

    public State state() {
        return state.get();
    }

    public Throwable failure() {
        return failure;
    }

    Properties properties() {
        Properties p = new Properties();
        p.setProperty("name", "tandem-capture-" + settings.siteId());
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", SiteDatabaseOffsetStore.class.getName());
        p.setProperty(SiteDatabaseOffsetStore.URL, settings.jdbcUrl());
        p.setProperty(SiteDatabaseOffsetStore.USER, settings.user());
        p.setProperty(SiteDatabaseOffsetStore.PASSWORD, settings.password());
        p.setProperty("offset.flush.interval.ms", String.valueOf(settings.offsetFlushInterval().toMillis()));
        p.setProperty("database.hostname", settings.host());
        p.setProperty("database.port", String.valueOf(settings.port()));
        p.setProperty("database.user", settings.user());
        p.setProperty("database.password", settings.password());
        p.setProperty("database.dbname", settings.database());
        settings.ssl().forEach((name, value) -> p.setProperty("database." + name, value));
        p.setProperty("topic.prefix", "tandem");
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("publication.name", settings.publication());
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("slot.name", settings.slot());
        p.setProperty("slot.drop.on.stop", "false");
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("schema.include.list", "tandem");
        p.setProperty("provide.transaction.metadata", "true");
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("poll.interval.ms", String.valueOf(settings.pollInterval().toMillis()));
        p.setProperty("heartbeat.interval.ms", "1000");
        p.setProperty("max.batch.size", "4096");
        p.setProperty("max.queue.size", "16384");
        p.setProperty("unavailable.value.placeholder", ValueText.PLACEHOLDER);
        p.setProperty("decimal.handling.mode", "string");
        p.setProperty("interval.handling.mode", "string");
        p.setProperty("hstore.handling.mode", "json");
        p.setProperty("status.update.interval.ms", "1000");
        // Debezium's latency quantiles (a sketch per event, on a thread of their own) took about a sixth of
        // the capture's CPU in a bulk; /status reports the capture lag from our own clock instead.
        p.setProperty("statistics.metrics.enabled", "false");
        // A slot still held by a killed predecessor frees itself within wal_sender_timeout.
        p.setProperty("slot.max.retries", "30");
        p.setProperty("slot.retry.delay.ms", "2000");
        return p;
    }

    /** Stops the engine, waiting up to 30 s for its thread; safe to call more than once. See {@link #stop}. */
    @Override
    public void close() {
        if (!stop(Duration.ofSeconds(30))) {
            LOG.warn("Capture of site '{}' still running 30 s after close: it delivers and confirms nothing more, and is asked "
                    + "to stop again until it has", settings.siteId());
        }
    }

    /**
     * Asks Debezium to stop until it accepts (it refuses while its task starts: "Cannot stop engine
     * while tasks are starting") or its thread ended; past {@code wait} the thread is interrupted.
     * With a zero wait: asks once and looks. True once the engine's thread has ended (its
     * replication connection is closed); until then it delivers and confirms nothing.
     */
    public boolean stop(Duration wait) {
        State before = state.getAndUpdate(s -> s == State.STOPPED ? s : State.STOPPING);
        if (before == State.STOPPED || before == State.NEW || runner == null) {
            state.set(State.STOPPED);
            return true;
        }
        long deadline = System.nanoTime() + wait.toNanos();
        runner.shutdown(); // takes no new work; the engine's run goes on until it returns
        try {
            while (!running.isDone()) {
                try {
                    engine.close();
                    break;
                } catch (IllegalStateException refused) {
                    if (!String.valueOf(refused.getMessage()).contains("while tasks are starting") || System.nanoTime() >= deadline) {
                        break; // already shutting down or shut down (after a failure): its run ends by itself
                    }
                    waitForRun(Math.min(50_000_000L, Math.max(0, deadline - System.nanoTime())));
                } catch (IOException | RuntimeException e) {
                    LOG.debug("Capture of site '{}' was already stopping: {}", settings.siteId(), e.getMessage());
                    break;
                }
            }
            waitForRun(Math.max(0, deadline - System.nanoTime()));
            if (!running.isDone() && !wait.isZero()) {
                runner.shutdownNow(); // interrupts the engine's thread: Debezium then closes itself
                runner.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (running.isDone()) {
            state.set(State.STOPPED);
            return true;
        }
        return false;
    }

    private void waitForRun(long nanos) throws InterruptedException {
        try {
            running.get(nanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException ended) {
            // the run ended (with an error the completion callback reported)
        } catch (java.util.concurrent.TimeoutException stillRunning) {
            // asked again, or given up, by the caller
        }
    }
}
