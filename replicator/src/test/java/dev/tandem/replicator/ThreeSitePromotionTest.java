package dev.tandem.replicator;

import static dev.tandem.replicator.testing.FailoverSites.state;
import static dev.tandem.replicator.testing.TwoSites.checksums;
import static dev.tandem.replicator.testing.TwoSites.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.FailoverSites;
import dev.tandem.replicator.testing.NumberWriter;
import dev.tandem.replicator.testing.TwoSites;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Three sites: a active, b and c passive. When a falls silent, only the passive site that applied
 * the most of it may promote, so the least data is lost. Site c is made to fall behind first, so
 * it is also the first to see a silent: without that guard it would take the lease. Then c, whose
 * copy was of site a, takes a fresh copy of b and follows it.
 */
@Tag("sites")
class ThreeSitePromotionTest {
    static FailoverSites f;

    @BeforeAll
    static void start() {
        f = FailoverSites.threeSites("CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).untilAsserted(() -> {
            for (TwoSites.Replicator passive : new TwoSites.Replicator[] {f.b, f.c}) {
                JsonNode status = status(passive);
                assertThat(status.path("lastHeartbeatAgeMillis").asLong(-1)).as("heartbeat age: " + status).isBetween(0L, 2000L);
            }
            assertThat(status(f.a).path("failover").path("lease").path("lease").isTextual()).isTrue();
            assertThat(f.writerA.count()).as("writes on a; last refusal: " + f.writerA.lastError).isGreaterThan(10);
        });
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    static JsonNode status(TwoSites.Replicator replicator) throws Exception {
        return IsolatedActiveSiteTest.JSON.readTree(replicator.get("/status"));
    }

    @Test
    void onlyThePassiveSiteThatAppliedTheMostPromotes() throws Exception {
        f.link("c", "a").cut(); // c stops receiving a's stream; a still asks c for promises
        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() ->
                status(f.c).path("lastHeartbeatAgeMillis").asLong(0) > 1500
                        && status(f.b).path("appliedPosition").asLong() > status(f.c).path("appliedPosition").asLong());
        long behind = status(f.c).path("appliedPosition").asLong();

        f.isolate("a");
        await().atMost(Machine.deadline(Duration.ofSeconds(20))).until(() -> state(f.url("b")).role() == SiteRole.ACTIVE);
        assertThat(state(f.url("b")).epoch()).isEqualTo(2);
        assertThat(status(f.c).path("decisions").toString())
                .as("site c, silent first, deferred to b")
                .contains("but passive site 'b' applied more (position ")
                .contains(" > " + behind + "): it is the one to promote");
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> f.writerB.count() > 5);
        assertThat(state(f.url("c")).role()).isEqualTo(SiteRole.PASSIVE);
        assertThat(f.writer("c").count()).as("site c never accepted a write").isZero();
        assertThat(status(f.b).path("failover").path("lease").path("lease").asText()).isEqualTo("site 'b' at epoch 2");
        f.assertNoOverlap();

        // Site c's copy was of site a; it takes a fresh copy of site b and follows it.
        NumberWriter onB = new NumberWriter(java.util.Map.of("b", f.url("b")), 1, 5);
        try {
            await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> onB.committed.size() > 50);
        } finally {
            onB.close();
        }
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).until(() -> state(f.url("c")).epoch() == 2
                && checksums(f.url("c")).equals(checksums(f.url("b"))));
        assertThat(state(f.url("c")).role()).isEqualTo(SiteRole.PASSIVE);
        assertThat(count(f.url("c"), "SELECT count(*) FROM tandem_local.site_state WHERE active_site_id = 'b'")).isEqualTo(1);
        assertThat(count(f.url("c"), "SELECT count(*) FROM tandem.test_numbers")).isEqualTo(onB.committed.size());
        assertThat(status(f.c).path("decisions").toString()).contains("answers as active at epoch 2, above this site's epoch 1");
    }
}
