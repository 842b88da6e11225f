package dev.tandem.replicator;

import static dev.tandem.replicator.testing.FailoverSites.FENCE_AFTER;
import static dev.tandem.replicator.testing.FailoverSites.FENCE_TIME;
import static dev.tandem.replicator.testing.FailoverSites.PROMOTE_AFTER;
import static dev.tandem.replicator.testing.FailoverSites.state;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.FailoverSites;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The active site cut from everything (the witness and the other site, by blackholing links): it
 * stops accepting writes within fenceAfter of the cut and fences itself; the passive site promotes
 * only after promoteAfter, and at no instant do both accept writes.
 */
@Tag("sites")
class IsolatedActiveSiteTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static FailoverSites f;

    @BeforeAll
    static void start() {
        f = new FailoverSites("direct");
        awaitSteady(f);
    }

    /** Site b follows (heartbeats applied) and site a holds the lease and writes. */
    static void awaitSteady(FailoverSites f) {
        await().atMost(Machine.deadline(Duration.ofSeconds(40))).untilAsserted(() -> {
            JsonNode b = JSON.readTree(f.b.get("/status"));
            JsonNode a = JSON.readTree(f.a.get("/status"));
            assertThat(b.path("lastHeartbeatAgeMillis").asLong(-1)).as("heartbeat age on b: " + b).isBetween(0L, 2000L);
            assertThat(a.path("failover").path("lease").path("lease").isTextual()).as("lease held by a: " + a.path("failover")).isTrue();
            assertThat(f.writerA.count()).as("writes on a; last refusal: " + f.writerA.lastError).isGreaterThan(10);
        });
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void cutFromEverythingTheActiveFencesWithinFenceAfterAndThePassivePromotesAfterPromoteAfter() throws Exception {
        assertThat(f.writerB.count()).as("the passive site accepted no write").isZero();
        long cut = System.nanoTime();
        f.witnessA.cut();
        f.aToB.cut();
        f.bToA.cut();

        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> state(f.sites.urlA()).role() == SiteRole.FENCED);
        long lastWriteOnA = f.writerA.lastEndedNanos();
        assertThat(Duration.ofNanos(lastWriteOnA - cut)).as("last write on the isolated site after the cut")
                .isLessThan(FENCE_AFTER.plus(FENCE_TIME));
        SiteState a = state(f.sites.urlA());
        assertThat(a.fencedReason()).contains("no lease renewal succeeded");
        assertThat(a.activeSiteUrl()).as("a fenced site cut from everything does not name itself as the active site").isNull();
        assertThat(a.refusal()).contains("which site that is is not known here");

        await().atMost(Machine.deadline(Duration.ofSeconds(20))).until(() -> f.writerB.count() > 5);
        SiteState b = state(f.sites.urlB());
        assertThat(b.role()).isEqualTo(SiteRole.ACTIVE);
        assertThat(b.epoch()).isEqualTo(a.epoch() + 1);
        long firstWriteOnB = f.writerB.committed.get(0).beganNanos();
        assertThat(Duration.ofNanos(firstWriteOnB - cut)).as("the passive site waited promoteAfter").isGreaterThan(PROMOTE_AFTER);
        assertThat(f.writerB.committed).allMatch(w -> w.epoch() == b.epoch());
        f.assertNoOverlap();

        JsonNode status = JSON.readTree(f.b.get("/status"));
        assertThat(status.path("decisions").toString()).contains("took it at epoch " + b.epoch()).contains("promoted to active");
        assertThat(f.a.health()).contains("fenced");

        // The cut heals: the fenced site stays fenced and refuses writes; the promoted one keeps the lease.
        int writesOnA = f.writerA.count();
        f.witnessA.restore();
        f.aToB.restore();
        f.bToA.restore();
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> f.writerB.count() > 40);
        assertThat(state(f.sites.urlA()).role()).isEqualTo(SiteRole.FENCED);
        assertThat(f.writerA.count()).isEqualTo(writesOnA);
        // Once it hears site b again, the fenced site's refusals name b as where writes go.
        await().atMost(Machine.deadline(Duration.ofSeconds(10)))
                .until(() -> "http://site-b.test".equals(state(f.sites.urlA()).activeSiteUrl()));
        assertThat(state(f.sites.urlA()).refusal()).contains("writes are accepted only by the active site at http://site-b.test");
        JsonNode promoted = JSON.readTree(f.b.get("/status"));
        assertThat(promoted.path("failover").path("lease").path("lease").asText()).isEqualTo("site 'b' at epoch " + b.epoch());
        f.assertNoOverlap();
    }
}
