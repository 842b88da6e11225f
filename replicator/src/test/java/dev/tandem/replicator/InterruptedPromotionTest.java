package dev.tandem.replicator;

import static dev.tandem.replicator.testing.FailoverSites.state;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.FailoverSites;
import dev.tandem.replicator.witness.Lease;
import dev.tandem.replicator.witness.S3Witness;
import dev.tandem.runtime.testing.S3Server;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A promotion interrupted right after the lease was taken (the passive replicator crashed before
 * marking its site active) is finished by the next leader, and the old active site, on its next
 * renewal, finds the higher epoch and fences itself at once; with {@code failback: automatic} it
 * then writes its divergence report and resyncs by itself.
 */
@Tag("sites")
class InterruptedPromotionTest {
    static FailoverSites f;

    @BeforeAll
    static void start() {
        f = FailoverSites.withAutomaticFailback("direct");
        IsolatedActiveSiteTest.awaitSteady(f);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void aLeaseTakenByThePassiveSiteIsFinishedAsAPromotionAndTheOldHolderFences() throws Exception {
        // The state a crash after "take the lease" leaves: the witness names site b at epoch 2, site
        // b's row still says passive at epoch 1.
        try (S3Witness witness = new S3Witness(new S3Witness.Settings(S3Server.shared().endpoint(), "us-east-1", S3Server.BUCKET,
                f.leaseKey(), "test", "test", true, Duration.ofSeconds(2)))) {
            // Like any contender, the write is conditional and races the holder's renewals: retried until it lands.
            await().atMost(Machine.deadline(Duration.ofSeconds(10))).pollInterval(Duration.ofMillis(50)).until(() -> {
                Lease current = witness.read().orElseThrow();
                assertThat(current.holder()).isEqualTo("a");
                try {
                    witness.replace(current, "b", current.epoch() + 1, current.beat() + 1);
                    return true;
                } catch (dev.tandem.replicator.witness.Witness.LeaseConflictException renewedMeanwhile) {
                    return false;
                }
            });
        }
        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> state(f.sites.urlB()).role() == SiteRole.ACTIVE);
        assertThat(state(f.sites.urlB()).epoch()).isEqualTo(2);
        // With failback: automatic site a stays fenced only until its report is written, so its
        // replicator's decisions, not its current role, show the fencing.
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).untilAsserted(() -> assertThat(f.a.get("/status"))
                .contains("site 'a' fenced by its replicator: the witness lease is held by site 'b' at epoch 2"));
        assertThat(f.b.get("/status")).contains("a promotion interrupted, or a switchover handed it over");
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).untilAsserted(() -> assertThat(f.writerB.count())
                .as("writes committed on the promoted site b (its last refusal: %s)", f.writerB.lastError).isGreaterThan(5));
        // failback: automatic — the fenced site writes its report, copies site b and follows it.
        await().atMost(Machine.deadline(Duration.ofSeconds(40))).until(() -> state(f.sites.urlA()).role() == SiteRole.PASSIVE
                && dev.tandem.replicator.testing.TwoSites.checksums(f.sites.urlA()).equals(dev.tandem.replicator.testing.TwoSites.checksums(f.sites.urlB())));
        assertThat(f.a.get("/divergence")).contains("\"activeSite\":\"b\"");
        f.assertNoOverlap();
    }
}
