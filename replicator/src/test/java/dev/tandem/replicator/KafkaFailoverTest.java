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
import dev.tandem.replicator.testing.KafkaBroker;
import dev.tandem.replicator.testing.NumberWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Failover with the Kafka transport (a real in-process KRaft broker). A passive site promotes only
 * after applying everything the topic holds when the broker answers, so an active site cut from the
 * witness and the other site, but not from the broker, loses nothing; with the broker gone the
 * promotion still happens, and says it could not drain. Runs in order: each test starts where the
 * previous one left the sites.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Tag("sites")
class KafkaFailoverTest {
    static final KafkaBroker KAFKA = new KafkaBroker();
    static FailoverSites f;

    @BeforeAll
    static void start() {
        f = FailoverSites.overKafka(KAFKA.bootstrapServers(), "CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
        IsolatedActiveSiteTest.awaitSteady(f);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
        KAFKA.close();
    }

    @Test
    @Order(1)
    void anActiveSiteThatStillReachesTheBrokerLosesNothingWhenThePassiveSitePromotes() throws Exception {
        NumberWriter onA = new NumberWriter(Map.of("a", f.url("a")), 1, 20);
        long epoch = state(f.url("a")).epoch();
        // Apply on b is held up (a lock on the table it writes), so when b takes the lease the topic
        // holds a backlog: a's last seconds of numbers and heartbeats. The lock is let go the moment
        // b takes the lease; b must apply that backlog before it accepts a write.
        try (Connection lock = DriverManager.getConnection(f.url("b"), "postgres", "")) {
            await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> onA.committed.size() > 50);
            lock.setAutoCommit(false);
            lock.createStatement().execute("LOCK TABLE tandem.test_numbers IN ACCESS EXCLUSIVE MODE");
            f.witnessA.cut();
            f.aToB.cut();
            f.bToA.cut();
            await().atMost(Machine.deadline(Duration.ofSeconds(20))).pollInterval(Duration.ofMillis(20))
                    .until(() -> f.b.get("/status").contains("took it at epoch " + (epoch + 1)));
            lock.rollback();
            await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> state(f.url("a")).role() == SiteRole.FENCED);
            await().atMost(Machine.deadline(Duration.ofSeconds(20))).until(() -> state(f.url("b")).role() == SiteRole.ACTIVE);
        } finally {
            onA.close();
        }
        // Read the instant b became active: what it applied before its first write, nothing after.
        long onB = count(f.url("b"), "SELECT count(*) FROM tandem.test_numbers");
        long maxOnB = count(f.url("b"), "SELECT max(n) FROM tandem.test_numbers");
        assertThat(onB).as("every number site a committed reached site b through the topic").isEqualTo(onA.committed.size());
        assertThat(maxOnB).isEqualTo(onA.committed.get(onA.committed.size() - 1));
        assertThat(state(f.url("b")).epoch()).isEqualTo(epoch + 1);
        assertThat(f.b.get("/status")).contains("promoted to active at epoch " + (epoch + 1))
                .contains("apply drained topic ").contains(" to its high watermark (offset ");
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> f.writerB.count() > 5);
        f.assertNoOverlap();
    }

    @Test
    @Order(2)
    void theFencedSiteComesBackAsAPassiveCopyFollowingTheNewActiveSiteThroughTheBroker() {
        f.witnessA.restore();
        f.aToB.restore();
        f.bToA.restore();
        String result = task(f.a, "reseed");
        assertThat(result).startsWith("failback of site 'a': divergence report written to").contains("now copies site 'b'");
        NumberWriter onB = new NumberWriter(Map.of("b", f.url("b")), 1_000_000, 5);
        try {
            await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> onB.committed.size() > 50);
        } finally {
            close(onB);
        }
        await().atMost(Machine.deadline(Duration.ofSeconds(40))).until(() -> state(f.url("a")).role() == SiteRole.PASSIVE
                && checksums(f.url("a")).equals(checksums(f.url("b"))));
        assertThat(f.a.get("/status")).contains("\"transport\":\"kafka\"").contains("\"mode\":\"apply\"");
        assertThat(count(f.url("a"), "SELECT count(*) FROM tandem.test_numbers WHERE n >= 1000000")).isEqualTo(onB.committed.size());
    }

    @Test
    @Order(3)
    void withTheBrokerGoneThePassiveSiteStillPromotesAndSaysItCouldNotDrain() {
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).until(() -> state(f.url("a")).role() == SiteRole.PASSIVE
                && IsolatedActiveSiteTest.JSON.readTree(f.a.get("/status")).path("lastHeartbeatAgeMillis").asLong(Long.MAX_VALUE) < 1000);
        long epoch = state(f.url("b")).epoch();
        KAFKA.close();
        f.witnessB.cut();
        f.aToB.cut();
        f.bToA.cut();
        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> state(f.url("b")).role() == SiteRole.FENCED);
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).until(() -> state(f.url("a")).role() == SiteRole.ACTIVE);
        assertThat(state(f.url("a")).epoch()).isEqualTo(epoch + 1);
        // the site-state row turns active a moment before the failover loop records the promotion's sentence
        await().atMost(Machine.deadline(Duration.ofSeconds(5)))
                .until(() -> f.a.get("/status").contains("promoted to active at epoch " + (epoch + 1)));
        assertThat(f.a.get("/status")).contains("apply could not drain topic ").contains("the broker did not answer");
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> f.writerA.count() > 0
                && f.writerA.committed.get(f.writerA.count() - 1).epoch() == epoch + 1);
        f.assertNoOverlap();
    }

    private static void close(NumberWriter writer) {
        try {
            writer.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
