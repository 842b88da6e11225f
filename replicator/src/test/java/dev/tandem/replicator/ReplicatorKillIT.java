package dev.tandem.replicator;

import static dev.tandem.replicator.testing.TwoSites.checksums;
import static dev.tandem.replicator.testing.TwoSites.count;
import static dev.tandem.replicator.testing.TwoSites.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.KafkaProcess;
import dev.tandem.replicator.testing.ReplicatorProcess;
import dev.tandem.replicator.testing.TwoSites;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Replicators and the Kafka broker as real processes, each SIGKILLed in the middle of a stream of
 * numbered transactions (some large enough to span several frames): afterwards nothing is missing
 * on the passive site, and nothing was applied twice (a trigger there records any re-applied row).
 */
class ReplicatorKillIT {

    @Test
    void killingCaptureAndApplyMidStreamLosesNothingAndRepeatsNothingOverDirect() throws Exception {
        killEachPart("direct");
    }

    @Test
    void killingCaptureApplyAndTheBrokerMidStreamLosesNothingAndRepeatsNothingOverKafka() throws Exception {
        killEachPart("kafka");
    }

    @Test
    void killingThePassiveSitesLeadingReplicatorHandsApplyToItsStandbyWithoutApplyingAnythingTwice() throws Exception {
        try (TwoSites sites = new TwoSites()) {
            for (String url : new String[] {sites.urlA(), sites.urlB()}) {
                exec(url, "CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
            }
            detectReapply(sites);
            try (Processes processes = new Processes()) {
                ReplicatorProcess a = processes.add(new ReplicatorProcess(sites, "a", sites.urlA(), "direct", null, "[b]", "[]").start());
                ReplicatorProcess b1 = processes.add(new ReplicatorProcess(sites, "b", sites.urlB(), "direct", null, "[]", "[" + a.url() + "]").start());
                await().atMost(Machine.deadline(Duration.ofSeconds(60))).until(() -> String.valueOf(b1.status()).contains("\"mode\":\"apply\""));
                ReplicatorProcess b2 = processes.add(new ReplicatorProcess(sites, "b", sites.urlB(), "direct", null, "[]", "[" + a.url() + "]").start());
                await().atMost(Machine.deadline(Duration.ofSeconds(60))).until(() -> String.valueOf(b2.status()).contains("\"mode\":\"standby\""));
                AtomicLong next = new AtomicLong();
                AtomicBoolean running = new AtomicBoolean(true);
                Thread writer = new Thread(() -> {
                    while (running.get()) {
                        exec(sites.urlA(), "INSERT INTO tandem.test_numbers VALUES (gen_random_uuid(), " + next.incrementAndGet() + ")");
                    }
                }, "numbered-writer");
                long takeoverMillis;
                try {
                    writer.start();
                    awaitApplied(sites, 200);
                    b1.kill();
                    long killedAt = System.nanoTime();
                    await().atMost(Machine.deadline(Duration.ofSeconds(10))).pollInterval(Duration.ofMillis(50))
                            .until(() -> String.valueOf(b2.status()).contains("\"mode\":\"apply\""));
                    takeoverMillis = (System.nanoTime() - killedAt) / 1_000_000;
                    writeMore(next, 200);
                } finally {
                    running.set(false);
                    writer.join();
                }
                await().atMost(Machine.deadline(Duration.ofSeconds(60))).pollInterval(Duration.ofMillis(250))
                        .untilAsserted(() -> assertThat(checksums(sites.urlB())).isEqualTo(checksums(sites.urlA())));
                assertThat(count(sites.urlB(), "SELECT max(n) FROM tandem.test_numbers")).isEqualTo(next.get());
                assertThat(count(sites.urlB(), "SELECT count(*) FROM tandem_local.test_reapplied")).as("no row applied twice").isZero();
                // The killed leader's session, and its lock, end when its connection drops: two intervals of 500 ms plus start-up.
                assertThat(takeoverMillis).as("the standby leads within a bound").isLessThan(Machine.deadline(Duration.ofSeconds(5)).toMillis());
            }
        }
    }

    /** Rows are never updated on a, so a trigger on b records any row applied a second time. */
    static void detectReapply(TwoSites sites) {
        exec(sites.urlB(),
                "CREATE TABLE tandem_local.test_reapplied (n bigint NOT NULL)",
                "CREATE FUNCTION tandem_local.record_reapply() RETURNS trigger AS $$ BEGIN "
                        + "INSERT INTO tandem_local.test_reapplied VALUES (NEW.n); RETURN NEW; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER reapplied AFTER UPDATE ON tandem.test_numbers FOR EACH ROW EXECUTE FUNCTION tandem_local.record_reapply()",
                "ALTER TABLE tandem.test_numbers ENABLE ALWAYS TRIGGER reapplied");
    }

    private static void killEachPart(String transport) throws Exception {
        try (TwoSites sites = new TwoSites()) {
            for (String url : new String[] {sites.urlA(), sites.urlB()}) {
                exec(url, "CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
            }
            detectReapply(sites);
            try (Processes processes = new Processes()) {
                KafkaProcess kafka = "kafka".equals(transport) ? processes.add(new KafkaProcess(sites.dir()).start()) : null;
                if (kafka != null) {
                    await().atMost(Machine.deadline(Duration.ofSeconds(30))).until(kafka::listening);
                }
                String bootstrap = kafka == null ? null : kafka.bootstrapServers();
                ReplicatorProcess a = processes.add(new ReplicatorProcess(sites, "a", sites.urlA(), transport, bootstrap, "[b]", "[]").start());
                ReplicatorProcess b = processes.add(new ReplicatorProcess(sites, "b", sites.urlB(), transport, bootstrap, "[]", "[" + a.url() + "]").start());
                AtomicLong next = new AtomicLong();
                AtomicBoolean running = new AtomicBoolean(true);
                Thread writer = new Thread(() -> {
                    while (running.get()) {
                        long n = next.get();
                        if (n % 199 == 0) {
                            // a transaction of 2,500 rows: three frames, so a kill can fall inside one
                            exec(sites.urlA(), "INSERT INTO tandem.test_numbers SELECT gen_random_uuid(), g FROM generate_series("
                                    + (n + 1) + ", " + (n + 2500) + ") g");
                            next.addAndGet(2500);
                        } else {
                            exec(sites.urlA(), "INSERT INTO tandem.test_numbers VALUES (gen_random_uuid(), " + (n + 1) + ")");
                            next.incrementAndGet();
                        }
                    }
                }, "numbered-writer");
                try {
                    writer.start();
                    awaitApplied(sites, 3000);

                    a.kill();
                    writeMore(next, 200);
                    a.start();
                    awaitApplied(sites, next.get());

                    b.kill();
                    writeMore(next, 200);
                    b.start();
                    awaitApplied(sites, next.get());

                    if (kafka != null) {
                        kafka.kill();
                        writeMore(next, 200);
                        kafka.start();
                        awaitApplied(sites, next.get());
                    }
                    writeMore(next, 100);
                } finally {
                    running.set(false);
                    writer.join();
                }
                try {
                    await().atMost(Machine.deadline(Duration.ofSeconds(90))).pollInterval(Duration.ofMillis(250))
                            .untilAsserted(() -> assertThat(checksums(sites.urlB())).isEqualTo(checksums(sites.urlA())));
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError(e.getMessage() + "\nstatus a: " + a.status() + "\nstatus b: " + b.status(), e);
                }
                assertThat(count(sites.urlB(), "SELECT count(*) FROM tandem.test_numbers")).isEqualTo(next.get());
                assertThat(count(sites.urlB(), "SELECT max(n) FROM tandem.test_numbers")).as("no gap: 1..n all present").isEqualTo(next.get());
                assertThat(count(sites.urlB(), "SELECT count(*) FROM tandem_local.test_reapplied")).as("no row applied twice").isZero();
                long beat = TwoSites.heartbeat(sites.urlB());
                await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> TwoSites.heartbeat(sites.urlB()) > beat);
            }
        }
    }

    /** Every process a test started, stopped even when the test fails. */
    static final class Processes implements AutoCloseable {
        private final java.util.List<AutoCloseable> started = new java.util.ArrayList<>();

        <T extends AutoCloseable> T add(T process) {
            started.add(process);
            return process;
        }

        @Override
        public void close() throws Exception {
            for (AutoCloseable process : started) {
                process.close();
            }
        }
    }

    private static void writeMore(AtomicLong next, long transactions) {
        long target = next.get() + transactions;
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).until(() -> next.get() >= target);
    }

    private static void awaitApplied(TwoSites sites, long atLeast) {
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).pollInterval(Duration.ofMillis(250))
                .until(() -> count(sites.urlB(), "SELECT count(*) FROM tandem.test_numbers") >= atLeast);
    }
}
