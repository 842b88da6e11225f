package dev.tandem.replicator;

import static dev.tandem.replicator.testing.FailoverSites.state;
import static dev.tandem.replicator.testing.FailoverSites.task;
import static dev.tandem.replicator.testing.TwoSites.checksums;
import static dev.tandem.replicator.testing.TwoSites.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.FailoverSites;
import dev.tandem.replicator.testing.NumberWriter;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A planned switchover under a write load loses nothing: every numbered row committed on the old
 * active site reaches the new one, roles and the lease move, the old site follows the new one
 * without a copy, and at no instant do both accept writes.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Tag("sites")
class SwitchoverTest {
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

    static java.util.Map<String, String> bothSitesAFirst() {
        java.util.Map<String, String> sites = new java.util.LinkedHashMap<>();
        sites.put("a", f.sites.urlA());
        sites.put("b", f.sites.urlB());
        return sites;
    }

    @Test
    @Order(1)
    void aPlannedSwitchoverUnderLoadLosesNothingAndTheOldSiteFollowsTheNewOne() throws Exception {
        long epoch = state(f.sites.urlA()).epoch();
        String result;
        NumberWriter writer = new NumberWriter(bothSitesAFirst(), 1, 5);
        try {
            await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> writer.committed.size() > 200);
            result = task(f.a, "switchover?to=b");
            await().atMost(Machine.deadline(Duration.ofSeconds(20))).until(() -> writer.committedOn.contains("b")
                    && writer.committedOn.stream().filter("b"::equals).count() > 200);
        } finally {
            writer.close();
        }
        assertThat(result).startsWith("switchover done");
        assertThat(state(f.sites.urlB()).role()).isEqualTo(SiteRole.ACTIVE);
        assertThat(state(f.sites.urlB()).epoch()).isEqualTo(epoch + 1);
        assertThat(state(f.sites.urlA()).role()).isEqualTo(SiteRole.PASSIVE);
        assertThat(state(f.sites.urlA()).epoch()).isEqualTo(epoch + 1);
        // The writer moved from a to b once, and every number it committed is on b.
        int firstOnB = writer.committedOn.indexOf("b");
        assertThat(writer.committedOn.subList(firstOnB, writer.committedOn.size())).containsOnly("b");
        assertThat(count(f.sites.urlB(), "SELECT count(*) FROM tandem.test_numbers")).isEqualTo(writer.committed.size());
        assertThat(count(f.sites.urlB(), "SELECT max(n) FROM tandem.test_numbers")).isEqualTo(writer.committed.size());
        // The old site follows the new one without a copy, and converges.
        await().atMost(Machine.deadline(Duration.ofSeconds(20))).until(() -> checksums(f.sites.urlA()).equals(checksums(f.sites.urlB())));
        assertThat(f.a.get("/status")).contains("\"mode\":\"apply\"").doesNotContain("reseed");
        assertThat(f.b.get("/status")).contains("\"lease\":\"site 'b' at epoch " + (epoch + 1) + "\"");
        f.assertNoOverlap();
    }

    @Test
    @Order(2)
    void anOperatorFencesTheActiveSiteThenForcesThePromotionOfThePassiveOneAfterBeingToldWhatMayBeLost() throws Exception {
        long epoch = state(f.sites.urlB()).epoch();
        assertThat(state(f.sites.urlB()).role()).isEqualTo(SiteRole.ACTIVE);
        assertThat(task(f.a, "promote?confirm=b")).contains("does not name this site");

        String fenced = task(f.b, "fence?reason=maintenance%20window");
        assertThat(fenced).isEqualTo("site 'b' fenced by an operator: maintenance window");
        assertThat(state(f.sites.urlB()).role()).isEqualTo(SiteRole.FENCED);
        assertThat(state(f.sites.urlB()).fencedReason()).isEqualTo("fenced by an operator: maintenance window");
        int writesOnB = f.writerB.count();

        String warning = task(f.a, "promote");
        assertThat(warning).startsWith("not promoted: site 'a' has applied the active site's changes up to position")
                .contains("Repeat with confirm=a");
        assertThat(state(f.sites.urlA()).role()).isEqualTo(SiteRole.PASSIVE);

        long asked = System.nanoTime();
        String promoted = task(f.a, "promote?confirm=a");
        assertThat(promoted).contains("site 'a' promoted to active at epoch " + (epoch + 1));
        assertThat(Duration.ofNanos(System.nanoTime() - asked)).as("it waited out the old holder's write deadline")
                .isGreaterThanOrEqualTo(FailoverSites.FENCE_AFTER.plus(FailoverSites.FENCE_TIME));
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> f.writerA.count() > 20
                && f.writerA.committed.get(f.writerA.count() - 1).epoch() == epoch + 1);
        assertThat(f.writerB.count()).isEqualTo(writesOnB);
        assertThat(state(f.sites.urlB()).role()).isEqualTo(SiteRole.FENCED);
        assertThat(f.a.health()).contains("\"failover\"");
        f.assertNoOverlap();
    }
}
