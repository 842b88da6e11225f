package dev.tandem.replicator;

import static dev.tandem.replicator.testing.FailoverSites.state;
import static dev.tandem.replicator.testing.FailoverSites.task;
import static dev.tandem.replicator.testing.TwoSites.checksums;
import static dev.tandem.replicator.testing.TwoSites.count;
import static dev.tandem.replicator.testing.TwoSites.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.FailoverSites;
import dev.tandem.replicator.testing.NumberWriter;
import dev.tandem.replicator.testing.TwoSites;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The active site is lost (cut from everything) while it commits a numbered table; site b
 * promotes and takes more writes; site a comes back. Its divergence report lists exactly the
 * numbers site a committed that site b never applied — not one more, not one less — and after the
 * resync every replicated table's checksum matches and site a is passive.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Tag("sites")
class FailbackTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static FailoverSites f;

    @BeforeAll
    static void start() {
        f = new FailoverSites("direct", "CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
        IsolatedActiveSiteTest.awaitSteady(f);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    @Order(1)
    void theDivergenceReportListsExactlyWhatTheNewActiveNeverAppliedThenTheOldSiteResyncs() throws Exception {
        NumberWriter onA = new NumberWriter(java.util.Map.of("a", f.sites.urlA()), 1, 5);
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> onA.committed.size() > 100);
        f.witnessA.cut();
        f.aToB.cut();
        f.bToA.cut();
        await().atMost(Machine.deadline(Duration.ofSeconds(20))).until(() -> state(f.sites.urlB()).role() == SiteRole.ACTIVE);
        onA.close();
        NumberWriter onB = new NumberWriter(java.util.Map.of("b", f.sites.urlB()), 1_000_000, 5);
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> onB.committed.size() > 50);
        onB.close();
        assertThat(state(f.sites.urlA()).role()).isEqualTo(SiteRole.FENCED);

        // What site a committed that site b does not have: the truth the report must match.
        Set<Long> onlyOnA = new TreeSet<>(onA.committed);
        onlyOnA.removeIf(n -> count(f.sites.urlB(), "SELECT count(*) FROM tandem.test_numbers WHERE n = " + n) > 0);
        assertThat(onlyOnA).as("the isolated site committed something the other never received").isNotEmpty();

        f.witnessA.restore();
        f.aToB.restore();
        f.bToA.restore();
        String result = task(f.a, "reseed");
        assertThat(result).startsWith("failback of site 'a': divergence report written to").contains("now copies site 'b'");

        JsonNode report = JSON.readTree(f.a.get("/divergence"));
        assertThat(report.path("unrecoverable").isNull()).as(report.toString()).isTrue();
        Set<Long> listed = new TreeSet<>();
        for (JsonNode tx : report.path("transactions")) {
            for (JsonNode change : tx.path("changes")) {
                if (change.path("table").asText().equals("test_numbers")) {
                    assertThat(change.path("operation").asText()).isEqualTo("insert");
                    listed.add(change.path("values").path("n").asLong());
                }
            }
        }
        assertThat(listed).as("numbers listed by the divergence report").isEqualTo(onlyOnA);
        String text = TwoSites.http(f.a.url() + "/divergence?format=text", TwoSites.TOKEN);
        assertThat(text).contains("were never applied on site 'b'").contains("insert tandem.test_numbers {id=")
                .contains("n=" + onlyOnA.iterator().next());

        // Resync: site a becomes a passive copy of site b.
        await().atMost(Machine.deadline(Duration.ofSeconds(40))).until(() -> state(f.sites.urlA()).role() == SiteRole.PASSIVE
                && checksums(f.sites.urlA()).equals(checksums(f.sites.urlB())));
        assertThat(count(f.sites.urlA(), "SELECT count(*) FROM tandem.test_numbers WHERE n >= 1000000")).isEqualTo(onB.committed.size());
        assertThat(state(f.sites.urlA()).epoch()).isEqualTo(state(f.sites.urlB()).epoch());
        f.assertNoOverlap();
    }

    @Test
    @Order(2)
    void aReturningSiteWhoseSlotWasInvalidatedIsToldWhatCannotBeRecoveredAndStillResyncs() throws Exception {
        // Run after the first: site b is active, site a follows. Now site b is lost, and while it
        // is away its slot is invalidated (WAL beyond max_slot_wal_keep_size).
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).until(() -> state(f.sites.urlA()).role() == SiteRole.PASSIVE
                && JSON.readTree(f.a.get("/status")).path("lastHeartbeatAgeMillis").asLong(Long.MAX_VALUE) < 1000);
        NumberWriter onB = new NumberWriter(java.util.Map.of("b", f.sites.urlB()), 2_000_000, 5);
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> onB.committed.size() > 20);
        f.witnessB.cut();
        f.aToB.cut();
        f.bToA.cut();
        await().atMost(Machine.deadline(Duration.ofSeconds(20))).until(() -> state(f.sites.urlA()).role() == SiteRole.ACTIVE);
        onB.close();
        String postgresB = f.sites.urlB().replace("/tandem", "/postgres");
        exec(postgresB, "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'", "SELECT pg_reload_conf()",
                "CREATE TABLE IF NOT EXISTS noise (x text)");
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).until(() -> {
            exec(postgresB, "INSERT INTO noise SELECT repeat(md5(g::text), 32) FROM generate_series(1, 20000) g", "TRUNCATE noise",
                    "CHECKPOINT");
            return count(postgresB, "SELECT count(*) FROM pg_replication_slots WHERE wal_status = 'lost'") > 0;
        });
        exec(postgresB, "ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'", "SELECT pg_reload_conf()");
        f.witnessB.restore();
        f.aToB.restore();
        f.bToA.restore();
        await().atMost(Machine.deadline(Duration.ofSeconds(20))).until(() -> state(f.sites.urlB()).role() == SiteRole.FENCED);

        String result = task(f.b, "reseed");
        assertThat(result).contains("NOT COMPLETE").contains("was invalidated");
        JsonNode report = JSON.readTree(f.b.get("/divergence"));
        assertThat(report.path("unrecoverable").asText()).contains("replication slot 'tandem_capture' was invalidated")
                .contains("cannot be listed");
        await().atMost(Machine.deadline(Duration.ofSeconds(40))).until(() -> state(f.sites.urlB()).role() == SiteRole.PASSIVE
                && checksums(f.sites.urlB()).equals(checksums(f.sites.urlA())));
        f.assertNoOverlap();
    }
}
