package dev.tandem.replicator;

import static dev.tandem.replicator.testing.TwoSites.checksums;
import static dev.tandem.replicator.testing.TwoSites.count;
import static dev.tandem.replicator.testing.TwoSites.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.KafkaBroker;
import dev.tandem.replicator.testing.TwoSites;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Site a streams to site b through a real Kafka broker (in-process KRaft). Restarting either
 * replicator in the middle of a stream of numbered transactions loses none and applies none twice.
 */
@Tag("sites")
class KafkaReplicationTest {
    static final KafkaBroker KAFKA = new KafkaBroker();
    static final TwoSites SITES = new TwoSites();
    static TwoSites.Replicator replicatorA;
    static TwoSites.Replicator replicatorB;
    static final AtomicLong NEXT = new AtomicLong();

    @BeforeAll
    static void start() {
        for (String url : new String[] {SITES.urlA(), SITES.urlB()}) {
            exec(url, "CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
        }
        ReplicatorKillIT.detectReapply(SITES);
        writeNumbered(50); // before the seed
        replicatorA = SITES.startA("kafka", KAFKA.bootstrapServers());
        replicatorB = SITES.startB("kafka", KAFKA.bootstrapServers(), replicatorA);
    }

    @AfterAll
    static void stop() {
        SITES.close();
        KAFKA.close();
    }

    static void writeNumbered(int transactions) {
        for (int i = 0; i < transactions; i++) {
            exec(SITES.urlA(), "INSERT INTO tandem.test_numbers VALUES (gen_random_uuid(), " + NEXT.incrementAndGet() + ")");
        }
    }

    static void awaitConvergedWithoutGaps() {
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(checksums(SITES.urlB())).isEqualTo(checksums(SITES.urlA())));
        long written = NEXT.get();
        assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem.test_numbers")).isEqualTo(written);
        assertThat(count(SITES.urlB(), "SELECT max(n) FROM tandem.test_numbers")).isEqualTo(written);
        assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem_local.test_reapplied")).as("no transaction applied twice").isZero();
    }

    /** Writes numbered transactions on a until stopped, while the test breaks something. */
    static Thread writer(AtomicBoolean running) {
        Thread t = new Thread(() -> {
            while (running.get()) {
                writeNumbered(1);
            }
        }, "numbered-writer");
        t.start();
        return t;
    }

    @Test
    void numberedTransactionsArriveInOrderThroughKafka() {
        writeNumbered(200);
        awaitConvergedWithoutGaps();
        assertThat(replicatorB.get("/status")).contains("\"transport\":\"kafka\"").contains("\"mode\":\"apply\"");
    }

    @Test
    void restartingTheCaptureMidStreamLosesNothingAndRepeatsNothing() throws InterruptedException {
        AtomicBoolean running = new AtomicBoolean(true);
        Thread writes = writer(running);
        await().until(() -> NEXT.get() > 100);
        replicatorA.stop();
        long whileDown = NEXT.get() + 50;
        await().until(() -> NEXT.get() > whileDown);
        replicatorA = SITES.startA("kafka", KAFKA.bootstrapServers());
        long afterRestart = NEXT.get() + 50;
        await().until(() -> NEXT.get() > afterRestart);
        running.set(false);
        writes.join();
        awaitConvergedWithoutGaps();
    }

    @Test
    void restartingTheApplyMidStreamLosesNothingAndRepeatsNothing() throws InterruptedException {
        AtomicBoolean running = new AtomicBoolean(true);
        Thread writes = writer(running);
        await().until(() -> NEXT.get() > 100);
        replicatorB.stop();
        long whileDown = NEXT.get() + 50;
        await().until(() -> NEXT.get() > whileDown);
        replicatorB = SITES.startB("kafka", KAFKA.bootstrapServers(), replicatorA);
        long afterRestart = NEXT.get() + 50;
        await().until(() -> NEXT.get() > afterRestart);
        running.set(false);
        writes.join();
        awaitConvergedWithoutGaps();
    }
}
