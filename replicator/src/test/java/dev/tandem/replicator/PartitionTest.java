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
import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.FailoverSites;
import dev.tandem.replicator.testing.TwoSites;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Partitions that must not promote: the two sites cut from each other while both reach the
 * witness (and the link flapping), and the witness unreachable while the sites reach each other.
 * Then the witness stays down and the active site loses the passive one too: it fences, nobody
 * promotes until the witness returns, and then the passive site does.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Tag("sites")
class PartitionTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static FailoverSites f;

    @BeforeAll
    static void start() {
        f = new FailoverSites("direct");
        IsolatedActiveSiteTest.awaitSteady(f);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    /** Holds for {@code span}: site b stays passive and site a keeps committing writes. */
    static void assertActiveStaysFor(Duration span) {
        long until = System.nanoTime() + span.toNanos();
        int before = f.writerA.count();
        await().atMost(Machine.deadline(span.plusSeconds(5))).pollInterval(Duration.ofMillis(100)).until(() -> {
            assertThat(state(f.sites.urlB()).role()).as("site b's role").isEqualTo(SiteRole.PASSIVE);
            assertThat(state(f.sites.urlA()).role()).as("site a's role").isEqualTo(SiteRole.ACTIVE);
            return System.nanoTime() > until;
        });
        assertThat(f.writerA.count()).as("writes committed on site a meanwhile").isGreaterThan(before + 20);
        assertThat(f.writerB.count()).isZero();
    }

    @Test
    @Order(0)
    void aStreamBrokenWhileTheActiveSiteAnswersRaisesAnAlertAndNeverPromotes() throws Exception {
        // Apply on b cannot store heartbeats any more (it retries), and a cannot reach b for promises:
        // b hears nothing through the stream, but site a still answers its probe as active.
        TwoSites.exec(f.sites.urlB(), "ALTER TABLE tandem.site_heartbeats ADD CONSTRAINT block_apply CHECK (beat < 0) NOT VALID");
        f.aToB.cut();
        await().atMost(Machine.deadline(PROMOTE_AFTER.multipliedBy(4)))
                .until(() -> f.b.health().contains("the change stream is broken while the site is alive"));
        assertActiveStaysFor(PROMOTE_AFTER);
        assertThat(JSON.readTree(f.b.get("/status")).path("failover").path("alert").asText())
                .contains("answers as active at epoch 1");
        TwoSites.exec(f.sites.urlB(), "ALTER TABLE tandem.site_heartbeats DROP CONSTRAINT block_apply");
        f.aToB.restore();
        await().atMost(Machine.deadline(Duration.ofSeconds(30)))
                .until(() -> JSON.readTree(f.b.get("/status")).path("lastHeartbeatAgeMillis").asLong(Long.MAX_VALUE) < 1000
                        && !f.b.health().contains("stream is broken"));
    }

    @Test
    @Order(1)
    void sitesCutFromEachOtherButNotFromTheWitnessKeepTheirRolesAndFlappingNeverPromotes() throws Exception {
        f.aToB.cut();
        f.bToA.cut();
        assertActiveStaysFor(PROMOTE_AFTER.multipliedBy(3));
        String decisions = JSON.readTree(f.b.get("/status")).path("decisions").toString();
        assertThat(decisions).contains("waiting for the witness lease");

        // The stream flaps: heartbeats arrive, then stop for almost promoteAfter, again and again.
        f.aToB.restore();
        for (int i = 0; i < 4; i++) {
            f.bToA.restore();
            long restored = System.nanoTime();
            await().atMost(Machine.deadline(Duration.ofSeconds(10)))
                    .until(() -> JSON.readTree(f.b.get("/status")).path("lastHeartbeatAgeMillis").asLong(Long.MAX_VALUE)
                            < Duration.ofNanos(System.nanoTime() - restored).toMillis());
            f.bToA.cut();
            assertActiveStaysFor(PROMOTE_AFTER.minusMillis(500));
        }
        f.bToA.restore();
        await().atMost(Machine.deadline(Duration.ofSeconds(15)))
                .until(() -> JSON.readTree(f.b.get("/status")).path("lastHeartbeatAgeMillis").asLong(Long.MAX_VALUE) < 1000);
        assertThat(state(f.sites.urlB()).epoch()).isEqualTo(state(f.sites.urlA()).epoch());
        f.assertNoOverlap();
    }

    @Test
    @Order(2)
    void witnessDownTheActiveStaysOnPromisesThenFencesWhenThePassiveIsLostAndNobodyPromotesWithoutTheWitness() throws Exception {
        f.witnessA.cut();
        f.witnessB.cut();
        assertActiveStaysFor(PROMOTE_AFTER.multipliedBy(3));
        JsonNode lease = JSON.readTree(f.a.get("/status")).path("failover").path("lease");
        assertThat(lease.path("leaseError").asText()).contains("cannot write the lease");
        assertThat(lease.path("promisesAgeMillis").asLong()).isLessThan(1000);

        // Now the active site cannot reach the passive one either: no renewal, no promise.
        long cut = System.nanoTime();
        f.aToB.cut();
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> state(f.sites.urlA()).role() == SiteRole.FENCED);
        assertThat(Duration.ofNanos(f.writerA.lastEndedNanos() - cut)).isLessThan(FENCE_AFTER.plus(FENCE_TIME));
        // Site b no longer hears from site a, but without the witness it must not promote.
        long quietFrom = System.nanoTime();
        await().atMost(Machine.deadline(PROMOTE_AFTER.multipliedBy(4))).pollInterval(Duration.ofMillis(100)).until(() -> {
            assertThat(state(f.sites.urlB()).role()).isEqualTo(SiteRole.PASSIVE);
            return System.nanoTime() - quietFrom > PROMOTE_AFTER.multipliedBy(2).toNanos();
        });
        assertThat(JSON.readTree(f.b.get("/status")).path("decisions").toString()).contains("the witness is unreachable");
        assertThat(f.writerB.count()).isZero();

        // The witness returns: the lease site a held has not changed for far longer than leaseTtl.
        f.witnessB.restore();
        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> f.writerB.count() > 5);
        assertThat(state(f.sites.urlB()).role()).isEqualTo(SiteRole.ACTIVE);
        assertThat(state(f.sites.urlB()).epoch()).isEqualTo(state(f.sites.urlA()).epoch() + 1);
        f.assertNoOverlap();
    }
}
