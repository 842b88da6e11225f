package dev.tandem.replicator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.site.SiteGate;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.site.SiteState;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.FailoverSites;
import dev.tandem.replicator.testing.ProcessSites;
import dev.tandem.replicator.testing.ReplicatorProcess;
import dev.tandem.replicator.testing.TwoSites;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.FireSequence;
import dev.tandem.runtime.testing.MemberProcess;
import java.io.File;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A healthy active site keeps its write lease on a busy machine. Two sites of real processes at
 * the default timing (interval 1 s, fenceAfter 3 s, leaseTtl 4 s, promoteAfter 5 s), the witness
 * a separate S3 process, a job firing every second; then {@code stress-ng --cpu 2} keeps both
 * cores busy for a minute ({@link LeaseUnderLoadSoakIT}: ten, under -Psoak). Meanwhile a write goes
 * through site a's gate every 50 ms: none may be refused, site a never fences, site b never
 * promotes, and the job's fire sequence on site a has no hole and no double.
 */
public class LeaseUnderLoadIT {
    static final ProcessSites PROCESSES = new ProcessSites();
    static final TwoSites SITES = PROCESSES.sites;
    static final int CPU_HOGS = Integer.getInteger("tandem.load.cpus", 2);
    static ReplicatorProcess replicatorA;
    static ReplicatorProcess replicatorB;
    static MemberProcess runtimeA;
    static MemberProcess runtimeB;

    static boolean stressNg() {
        return List.of(System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)).stream()
                .anyMatch(dir -> new File(dir, "stress-ng").canExecute());
    }

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(stressNg(), "stress-ng is not installed (apt-get install stress-ng); .ci/run installs it");
        PROCESSES.start();
        replicatorA = PROCESSES.replicatorA;
        replicatorB = PROCESSES.replicatorB;
        runtimeA = PROCESSES.runtimeA;
        runtimeB = PROCESSES.runtimeB;
    }

    @AfterAll
    static void stop() throws Exception {
        PROCESSES.close();
    }

    /** How long the machine is kept busy. */
    Duration load() {
        return Duration.ofSeconds(Long.getLong("tandem.load.seconds", 60));
    }

    @Test
    void underStressTheHealthyActiveSiteNeverLetsItsLeaseLapseNorFences() throws Exception {
        Duration load = load();
        Api a = runtimeA.api();
        assertThat(a.post("/api/v1/projects", Map.of("name", "load")).status()).isEqualTo(201);
        Api.Reply imported = a.postYaml("/api/v1/projects/load/jobs/import", """
                - name: tick
                  multipleExecutions: true
                  schedule: {crontab: '* * * * * ?'}
                  sequence: {commands: [{exec: 'true'}]}
                """);
        assertThat(imported.status()).as(imported.body()).isEqualTo(200);
        UUID job = UUID.fromString(imported.json().get("jobs").get(0).get("id").asText());
        await().atMost(Machine.deadline(Duration.ofSeconds(30)))
                .until(() -> TwoSites.count(SITES.urlB(), "SELECT count(*) FROM tandem.executions WHERE member_id = 'a1'") >= 3);

        SiteGate gate = new SiteGate(Jdbi.create(SITES.urlA(), "postgres", ""));
        List<String> refusals = new CopyOnWriteArrayList<>();
        Process stress = new ProcessBuilder("stress-ng", "--cpu", String.valueOf(CPU_HOGS), "--timeout", load.toSeconds() + "s", "--quiet")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Instant from = Instant.now();
        java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
        try {
            long until = System.nanoTime() + load.toNanos();
            // A write and a look at site b every 50 ms until the load ends; a promotion of b fails at once.
            await().atMost(load.plus(Machine.deadline(Duration.ofSeconds(60)))).pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(50)).until(() -> {
                        try {
                            gate.write(h -> h.execute("SELECT 1"));
                            writes.incrementAndGet();
                        } catch (RuntimeException refused) {
                            refusals.add(Instant.now() + " " + refused.getMessage());
                        }
                        SiteState b = FailoverSites.state(SITES.urlB());
                        assertThat(b.role()).as("site b's role under load").isEqualTo(SiteRole.PASSIVE);
                        return System.nanoTime() >= until;
                    });
        } finally {
            stress.destroy();
            stress.waitFor();
        }
        Instant to = Instant.now();
        System.out.printf("under stress-ng --cpu %d for %d s: %d writes through site a's gate, %d refused: %s%n",
                CPU_HOGS, load.toSeconds(), writes.get(), refusals.size(), refusals);
        assertThat(refusals).as("writes refused on the healthy active site").isEmpty();
        assertThat(FailoverSites.state(SITES.urlA()).role()).isEqualTo(SiteRole.ACTIVE);
        assertThat(replicatorA.status()).contains("\"fencedReason\":null").doesNotContain("could not renew the witness lease");
        // Every fire time under load ran once (late is allowed), none was lost or doubled.
        Instant last = to.minusSeconds(5);
        FireSequence.Report report = FireSequence.check(SITES.urlA(), job, "* * * * * ?", from, last);
        System.out.println("fire sequence under load: " + report);
        assertThat(report.problems()).as(report.toString()).isEmpty();
        assertThat(report.missed()).as(report.toString()).isEmpty();
        assertThat(TwoSites.count(SITES.urlA(), "SELECT count(*) FROM tandem.executions WHERE status = 'incomplete' AND started_at >= '"
                + Timestamp.from(from) + "'")).as("runs stopped by a lapsed lease").isZero();
    }
}
