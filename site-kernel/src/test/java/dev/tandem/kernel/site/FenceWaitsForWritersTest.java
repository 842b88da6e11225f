package dev.tandem.kernel.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * "No write can commit after a fence": a fence waits for the writes in flight, and a write that
 * starts while the fence is pending waits for it and then sees the fenced role and commits nothing.
 */
class FenceWaitsForWritersTest {

    @Test
    void aFenceWaitsForInFlightWritesAndLaterWritesSeeIt() throws Exception {
        String url = TestPostgres.newDatabase("fence");
        try (HikariDataSource ds = TestPostgres.migratedPool(url, 6)) {
            SiteGate gate = new SiteGate(Jdbi.create(ds));
            gate.initialise("a", SiteRole.ACTIVE, "http://a");
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE tandem.fence_probe (id uuid PRIMARY KEY, n int)");
            }

            Connection inFlight = ds.getConnection();
            inFlight.setAutoCommit(false);
            try (Statement s = inFlight.createStatement()) {
                s.execute(SiteGate.HOLD_SHARED);
                s.execute("INSERT INTO tandem.fence_probe VALUES (gen_random_uuid(), 1)");
            }

            CompletableFuture<Void> fence = CompletableFuture.runAsync(() -> {
                try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                    s.executeUpdate("UPDATE tandem_local.site_state SET role = 'fenced', epoch = epoch + 1");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> waitingOnLocks(ds) == 1);
            assertThat(fence).as("the fence waits for the write in flight").isNotDone();

            CompletableFuture<Object> later = CompletableFuture.supplyAsync(() -> {
                try {
                    return gate.write(h -> h.createUpdate("INSERT INTO tandem.fence_probe VALUES (gen_random_uuid(), 2)").execute());
                } catch (SiteNotActiveException e) {
                    return e;
                }
            });
            await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> waitingOnLocks(ds) == 2);
            assertThat(later).as("a write started during the fence waits for it").isNotDone();

            inFlight.commit();
            inFlight.close();
            fence.get();
            Object outcome = later.get();
            assertThat(outcome).isInstanceOf(SiteNotActiveException.class);
            assertThat(((SiteNotActiveException) outcome).getMessage()).contains("is fenced (epoch 2)");
            try (Connection c = ds.getConnection(); ResultSet rs = c.createStatement().executeQuery("SELECT n FROM tandem.fence_probe ORDER BY n")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).as("the write in flight committed before the fence").isEqualTo(1);
                assertThat(rs.next()).as("nothing committed after the fence").isFalse();
            }
        }
    }

    /**
     * The write deadline a witness lease keeps in the row: writes stop once it passed, also one that
     * was admitted just before it and still runs (checked again before its commit); extending it
     * opens writes again.
     */
    @Test
    void aWriteLeaseDeadlineStopsWritesEvenOneAlreadyRunning() throws Exception {
        String url = TestPostgres.newDatabase("deadline");
        try (HikariDataSource ds = TestPostgres.migratedPool(url, 10)) {
            SiteGate gate = new SiteGate(Jdbi.create(ds));
            gate.initialise("a", SiteRole.ACTIVE, "http://a");
            Jdbi.create(ds).useHandle(h -> {
                h.execute("CREATE TABLE tandem.deadline_probe (n int)");
                h.execute("UPDATE tandem_local.site_state SET writes_until = clock_timestamp() + interval '400 milliseconds'");
            });
            assertThat(gate.current().acceptsWrites()).isTrue();
            assertThat(gate.current().leased()).isTrue();
            Object slow;
            try {
                slow = gate.write(h -> h.createQuery("INSERT INTO tandem.deadline_probe SELECT 1 FROM pg_sleep(0.8) RETURNING n")
                        .mapTo(Integer.class).one());
            } catch (SiteNotActiveException e) {
                slow = e;
            }
            assertThat(slow).as("admitted before the deadline, still running after it").isInstanceOf(SiteNotActiveException.class);
            assertThat(((Exception) slow).getMessage()).contains("write lease lapsed");
            assertThat(gate.current().acceptsWrites()).isFalse();
            assertThat(gate.current().refusal()).contains("is active (epoch 1) but its write lease lapsed");
            Jdbi.create(ds).useHandle(h -> h.execute("UPDATE tandem_local.site_state SET writes_until = clock_timestamp() + interval '1 minute'"));
            gate.write(h -> h.execute("INSERT INTO tandem.deadline_probe VALUES (2)"));
            String committed = Jdbi.create(ds).withHandle(h -> h.createQuery("SELECT string_agg(n::text, ',') FROM tandem.deadline_probe")
                    .mapTo(String.class).one());
            assertThat(committed).as("only the write made under a valid lease committed").isEqualTo("2");
        }
    }

    /**
     * The gate's lock id is named once, by tandem_local.site_gate_lock(): the trigger that makes a
     * fence wait, the writers' gate and the replicator's shared hold all ask it, so changing it in
     * one place cannot leave a side taking a different lock (fencing would silently stop waiting).
     */
    @Test
    void everySideOfTheGateTakesTheOneLockTheSchemaNames() throws Exception {
        String url = TestPostgres.newDatabase("gatelock");
        try (HikariDataSource ds = TestPostgres.migratedPool(url, 2)) {
            Jdbi jdbi = Jdbi.create(ds);
            long lock = jdbi.withHandle(h -> h.createQuery("SELECT tandem_local.site_gate_lock()").mapTo(Long.class).one());
            for (String function : new String[] {"site_state_fence_waits_for_writers", "enter_site_gate", "hold_site_gate_shared"}) {
                String source = jdbi.withHandle(h -> h.createQuery("SELECT prosrc FROM pg_proc WHERE proname = :f")
                        .bind("f", function).mapTo(String.class).one());
                assertThat(source).as(function).contains("tandem_local.site_gate_lock()").doesNotContain(Long.toString(lock));
            }
            // The hold the replicator's apply takes is the very lock a writer's gate shares and a fence waits for.
            jdbi.useTransaction(h -> {
                h.execute(SiteGate.HOLD_SHARED);
                long held = h.createQuery("""
                        SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND mode = 'ShareLock'
                          AND ((classid::bigint << 32) | objid::bigint) = :lock""").bind("lock", lock).mapTo(Long.class).one();
                assertThat(held).isEqualTo(1);
            });
        }
    }

    static int waitingOnLocks(HikariDataSource ds) throws Exception {
        try (Connection c = ds.getConnection();
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
