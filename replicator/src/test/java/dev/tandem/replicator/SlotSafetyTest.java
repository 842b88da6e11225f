package dev.tandem.replicator;

import static dev.tandem.replicator.testing.TwoSites.checksums;
import static dev.tandem.replicator.testing.TwoSites.count;
import static dev.tandem.replicator.testing.TwoSites.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.TwoSites;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The capture slot never holds unbounded WAL: site heartbeats keep it moving while the replicated
 * tables are idle, and a slot that still falls behind max_slot_wal_keep_size is reported, recreated,
 * and the passive site is told to reseed, which then works.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Tag("sites")
class SlotSafetyTest {
    static final long MB = 1024 * 1024;
    static final TwoSites SITES = new TwoSites();
    static TwoSites.Replicator replicatorA;
    static TwoSites.Replicator replicatorB;
    static String noise;

    @BeforeAll
    static void start() {
        exec(SITES.serverA().jdbcUrl("postgres"), "CREATE DATABASE noise");
        noise = SITES.serverA().jdbcUrl("noise");
        exec(noise, "CREATE TABLE noise (x text)");
        for (String url : new String[] {SITES.urlA(), SITES.urlB()}) {
            exec(url, "CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
        }
        replicatorA = SITES.startA("direct", null);
        replicatorB = SITES.startB("direct", null, replicatorA);
        await().atMost(Machine.deadline(Duration.ofSeconds(20))).until(() -> TwoSites.heartbeat(SITES.urlB()) > 0);
    }

    @AfterAll
    static void stop() {
        SITES.close();
    }

    static long retainedBytes() {
        return count(SITES.urlA(), "SELECT coalesce((pg_current_wal_lsn() - restart_lsn)::bigint, 0) FROM pg_replication_slots WHERE slot_name = 'tandem_capture'");
    }

    static long walPosition() {
        return count(SITES.urlA(), "SELECT (pg_current_wal_lsn() - '0/0')::bigint");
    }

    /** Another database on site a's server writes this much WAL; returns the largest retention seen. */
    static long writeWalElsewhere(long bytes) {
        long start = walPosition();
        long maxRetained = 0;
        while (walPosition() - start < bytes) {
            exec(noise, "INSERT INTO noise SELECT repeat(md5(g::text), 32) FROM generate_series(1, 20000) g", "TRUNCATE noise");
            maxRetained = Math.max(maxRetained, retainedBytes());
        }
        return maxRetained;
    }

    @Test
    @Order(1)
    void whileReplicatedTablesIdleTheSlotReleasesTheWalAnotherDatabaseWrites() {
        assertThat(retainedBytes()).as("WAL held by the slot before").isLessThan(64 * MB);
        long peak = writeWalElsewhere(512 * MB);
        // PostgreSQL moves a slot's restart point at checkpoints and running-transaction records,
        // so a burst is held for a moment; what matters is that it is released, not accumulated.
        System.out.printf("slot held at most %d MiB while 512 MiB of WAL were written elsewhere%n", peak / MB);
        assertThat(peak).as("the slot held no more than the burst itself (nothing older accumulates)").isLessThan(512 * MB + 64 * MB);
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    exec(SITES.urlA(), "CHECKPOINT");
                    assertThat(retainedBytes()).as("WAL held by the slot once the writes stop").isLessThan(64 * MB);
                });
        assertThat(replicatorA.health()).doesNotContain("\"healthy\":false");
    }

    @Test
    @Order(2)
    void anInvalidatedSlotTurnsHealthRedAndAReseedOfThePassiveSiteRecovers() throws Exception {
        replicatorB.stop(); // no acknowledgements: the slot stops moving
        exec(SITES.urlA(), "ALTER SYSTEM SET max_slot_wal_keep_size = '64MB'", "SELECT pg_reload_conf()");
        try {
            exec(SITES.urlA(), "INSERT INTO tandem.test_numbers VALUES (gen_random_uuid(), 1)");
            await().atMost(Machine.deadline(Duration.ofSeconds(60))).pollInterval(Duration.ofMillis(500)).until(() -> {
                writeWalElsewhere(96 * MB);
                exec(SITES.urlA(), "CHECKPOINT");
                return replicatorA.health().contains("must be reseeded");
            });
            assertThat(replicatorA.health()).contains("\"healthy\":false").contains("invalidated");

            exec(SITES.urlA(), "INSERT INTO tandem.test_numbers VALUES (gen_random_uuid(), 2)");
            replicatorB = SITES.startB("direct", null, replicatorA);
            await().atMost(Machine.deadline(Duration.ofSeconds(30)))
                    .until(() -> replicatorB.health().contains("reseed this site"));

            HttpResponse<String> anonymous = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + replicatorB.adminPort() + "/tasks/reseed"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).as("an admin task needs the replication token, even on loopback").isEqualTo(401);
            assertThat(anonymous.body()).contains("an admin task needs the replication token");
            HttpResponse<String> reseed = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + replicatorB.adminPort() + "/tasks/reseed"))
                    .header("Authorization", "Bearer " + dev.tandem.replicator.testing.TwoSites.TOKEN)
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(reseed.body()).contains("reseed requested");
            exec(SITES.urlA(), "INSERT INTO tandem.test_numbers VALUES (gen_random_uuid(), 3)");
            await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> assertThat(checksums(SITES.urlB())).isEqualTo(checksums(SITES.urlA())));
            assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem.test_numbers")).isEqualTo(3);
            await().atMost(Machine.deadline(Duration.ofSeconds(10)))
                    .until(() -> !replicatorA.health().contains("\"healthy\":false") && !replicatorB.health().contains("\"healthy\":false"));
        } finally {
            exec(SITES.urlA(), "ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'", "SELECT pg_reload_conf()");
        }
    }
}
