package dev.tandem.replicator.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.MetricRegistry;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.replicator.stream.Frame;
import dev.tandem.replicator.stream.FrameSink;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Stopping capture stops it for certain (a fenced site must release its slot, or its divergence
 * report and reseed fail with "replication slot is active"). Debezium's engine refuses to close
 * while its task is starting; a stop at any moment of the start, and while changes stream, must
 * end the engine's thread and leave the slot free, and free it stays.
 */
class CaptureStopTest {
    static final String URL = TestPostgres.newDatabase("capturestop");
    static com.zaxxer.hikari.HikariDataSource pool;
    static CaptureSettings settings;

    @BeforeAll
    static void database() {
        pool = TestPostgres.migratedPool(URL, 4);
        settings = CaptureSettings.of("a", URL, "postgres", "", "tandem_capture", "tandem_pub", Duration.ofMillis(10),
                Duration.ofMillis(100), 1000);
    }

    @AfterAll
    static void close() {
        pool.close();
    }

    /** Takes every frame and says that every passive site applied it. */
    static final class AcceptAll implements FrameSink {
        final AtomicBoolean published = new AtomicBoolean();
        volatile long applied = -1;

        @Override
        public void publish(Frame frame) {
            published.set(true);
            applied = Math.max(applied, frame.commitLsn());
        }

        @Override
        public long appliedEverywhere() {
            return applied;
        }

        @Override
        public void close() {
        }
    }

    static boolean slotInUse() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'tandem_capture' AND active")) {
            rs.next();
            return rs.getLong(1) > 0;
        }
    }

    static void write() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO tandem.projects (id, name, created_at, updated_at) VALUES ('" + UUID.randomUUID() + "', '"
                    + UUID.randomUUID() + "', now(), now())");
        }
    }

    @Test
    void stoppingAnEngineThatFailedByItselfReturnsAtOnce() throws Exception {
        CaptureEngine engine = new CaptureEngine(settings, 1, new CaptureStats(new MetricRegistry()));
        long position = engine.prepare().position();
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP PUBLICATION tandem_pub"); // the connector does not create it: its start fails
        }
        try {
            engine.start(new AcceptAll(), position);
            await().atMost(Machine.deadline(Duration.ofSeconds(30))).until(() -> engine.state() == CaptureEngine.State.FAILED);
            assertThat(engine.failure()).isNotNull();
            long began = System.nanoTime();
            assertThat(engine.stop(Duration.ofSeconds(30))).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - began)).as("stopping a failed engine took")
                    .isLessThan(Machine.deadline(Duration.ofSeconds(2)));
            assertThat(engine.state()).isEqualTo(CaptureEngine.State.STOPPED);
        } finally {
            engine.prepare(); // the publication again, for the other tests
        }
    }

    @Test
    void aStopAtAnyMomentOfTheStartOrWhileStreamingEndsTheEngineAndFreesTheSlot() throws Exception {
        for (long delayMillis : new long[] {0, 0, 20, 100, 300, 800, 1500}) {
            CaptureEngine engine = new CaptureEngine(settings, 1, new CaptureStats(new MetricRegistry()));
            AcceptAll sink = new AcceptAll();
            engine.start(sink, engine.prepare().position());
            long until = System.nanoTime() + Duration.ofMillis(delayMillis).toNanos();
            while (System.nanoTime() < until) {
                write();
            }
            long started = System.nanoTime();
            assertThat(engine.stop(Duration.ofSeconds(30))).as("stopped %d ms after the start", delayMillis).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("stop took").isLessThan(Machine.deadline(Duration.ofSeconds(20)));
            assertThat(engine.state()).isEqualTo(CaptureEngine.State.STOPPED);
            await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> !slotInUse());
            write(); // a change that a still-running engine would pick up
            await().during(Duration.ofMillis(1500)).atMost(Machine.deadline(Duration.ofSeconds(5))).until(() -> !slotInUse());
            engine.close(); // idempotent
        }
    }
}
