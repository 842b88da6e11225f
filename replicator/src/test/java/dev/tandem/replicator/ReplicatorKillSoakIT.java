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
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The long version of {@link ReplicatorKillIT} (-Psoak): for {@code tandem.soakMinutes} (default
 * 10), every 5 to 15 seconds SIGKILL one of capture, apply or the Kafka broker, at random, while
 * numbered transactions keep coming; then check that nothing is missing and nothing was applied
 * twice. Prints the figures as the last line (recorded in docs/BENCHMARKS.md).
 */
class ReplicatorKillSoakIT {

    @Test
    void randomKillsForMinutesLoseNothingAndRepeatNothing() throws Exception {
        long minutes = Long.getLong("tandem.soakMinutes", 10);
        Random random = new Random(42);
        try (TwoSites sites = new TwoSites()) {
            for (String url : new String[] {sites.urlA(), sites.urlB()}) {
                exec(url, "CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
            }
            ReplicatorKillIT.detectReapply(sites);
            try (ReplicatorKillIT.Processes processes = new ReplicatorKillIT.Processes()) {
                KafkaProcess kafka = processes.add(new KafkaProcess(sites.dir()).start());
                await().atMost(Machine.deadline(Duration.ofSeconds(30))).until(kafka::listening);
                ReplicatorProcess a = processes.add(new ReplicatorProcess(sites, "a", sites.urlA(), "kafka", kafka.bootstrapServers(), "[b]", "[]").start());
                ReplicatorProcess b = processes.add(new ReplicatorProcess(sites, "b", sites.urlB(), "kafka", kafka.bootstrapServers(), "[]", "[" + a.url() + "]").start());
                AtomicLong next = new AtomicLong();
                AtomicBoolean running = new AtomicBoolean(true);
                Thread writer = new Thread(() -> {
                    while (running.get()) {
                        long n = next.get();
                        int rows = n % 199 == 0 ? 2500 : 1;
                        exec(sites.urlA(), "INSERT INTO tandem.test_numbers SELECT gen_random_uuid(), g FROM generate_series("
                                + (n + 1) + ", " + (n + rows) + ") g");
                        next.addAndGet(rows);
                    }
                }, "numbered-writer");
                writer.start();
                int[] kills = new int[3];
                long end = System.nanoTime() + Duration.ofMinutes(minutes).toNanos();
                try {
                    while (System.nanoTime() < end) {
                        long pause = 5_000 + random.nextInt(10_000);
                        long resumeAt = System.nanoTime() + pause * 1_000_000;
                        await().atMost(Duration.ofSeconds(20)).until(() -> System.nanoTime() >= resumeAt);
                        int victim = random.nextInt(3);
                        kills[victim]++;
                        if (victim == 0) {
                            a.kill();
                            a.start();
                        } else if (victim == 1) {
                            b.kill();
                            b.start();
                        } else {
                            kafka.kill();
                            kafka.start();
                        }
                    }
                } finally {
                    running.set(false);
                    writer.join();
                }
                await().atMost(Machine.deadline(Duration.ofMinutes(3))).pollInterval(Duration.ofSeconds(1))
                        .untilAsserted(() -> assertThat(checksums(sites.urlB())).isEqualTo(checksums(sites.urlA())));
                long rows = count(sites.urlB(), "SELECT count(*) FROM tandem.test_numbers");
                long reapplied = count(sites.urlB(), "SELECT count(*) FROM tandem_local.test_reapplied");
                assertThat(rows).isEqualTo(next.get());
                assertThat(count(sites.urlB(), "SELECT max(n) FROM tandem.test_numbers")).isEqualTo(next.get());
                assertThat(reapplied).isZero();
                System.out.printf("{\"minutes\":%d,\"captureKills\":%d,\"applyKills\":%d,\"brokerKills\":%d,\"rows\":%d,\"missing\":%d,\"reapplied\":%d}%n",
                        minutes, kills[0], kills[1], kills[2], rows, next.get() - rows, reapplied);
            }
        }
    }
}
