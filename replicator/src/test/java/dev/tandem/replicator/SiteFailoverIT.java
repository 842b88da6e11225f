package dev.tandem.replicator;

import static dev.tandem.replicator.testing.TwoSites.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.testing.FailoverSites;
import dev.tandem.replicator.testing.ProcessSites;
import dev.tandem.replicator.testing.ReplicatorProcess;
import dev.tandem.replicator.testing.TwoSites;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.FireSequence;
import dev.tandem.runtime.testing.MemberProcess;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Jobs fire every second on two sites of real processes (runtime, replicator, database each, and
 * an S3 witness), at the default timing. A planned switchover moves the schedules from a to b
 * without a double fire; then site b dies whole (SIGKILL of runtime, replicator and database) and
 * site a starts jobs within 10 s, no (job, fire time) starting twice, counting the fires that
 * arrived by replication.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SiteFailoverIT {
    static final ProcessSites PROCESSES = new ProcessSites();
    static final TwoSites SITES = PROCESSES.sites;
    static ReplicatorProcess replicatorA;
    static ReplicatorProcess replicatorB;
    static MemberProcess runtimeA;
    static MemberProcess runtimeB;
    static final java.util.List<UUID> JOBS = new java.util.ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        PROCESSES.start();
        replicatorA = PROCESSES.replicatorA;
        replicatorB = PROCESSES.replicatorB;
        runtimeA = PROCESSES.runtimeA;
        runtimeB = PROCESSES.runtimeB;
        Api a = runtimeA.api();
        assertThat(a.post("/api/v1/projects", Map.of("name", "dr")).status()).isEqualTo(201);
        for (int i = 0; i < 3; i++) {
            Api.Reply reply = a.postYaml("/api/v1/projects/dr/jobs/import", """
                    - name: tick-%d
                      multipleExecutions: true
                      schedule: {crontab: '* * * * * ?'}
                      sequence: {commands: [{exec: 'true'}]}
                    """.formatted(i));
            assertThat(reply.status()).as(reply.body()).isEqualTo(200);
            JOBS.add(UUID.fromString(reply.json().get("jobs").get(0).get("id").asText()));
        }
        // Fires on site a reach site b, and site a holds the lease.
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).until(() ->
                count(SITES.urlB(), "SELECT count(*) FROM tandem.executions WHERE member_id = 'a1'") >= 9
                        && String.valueOf(replicatorA.status()).contains("\"lease\":\"site 'a' at epoch 1\""));
    }

    @AfterAll
    static void stop() throws Exception {
        PROCESSES.close();
    }

    /**
     * Every job's fire sequence on the site at {@code url}, from its first fire to two seconds ago:
     * each fire time ran once or is recorded missed with a reason (no hole, no double).
     */
    static void assertWholeFireSequences(String url) throws Exception {
        for (UUID job : JOBS) {
            java.time.Instant first = java.time.Instant.ofEpochSecond(count(url,
                    "SELECT extract(epoch FROM min(fire_time))::bigint FROM tandem.executions WHERE job_id = '" + job + "'"));
            java.time.Instant until = java.time.Instant.ofEpochSecond(count(url, "SELECT extract(epoch FROM now())::bigint - 2"));
            FireSequence.Report report = FireSequence.check(url, job, "* * * * * ?", first, until);
            System.out.println("fire sequence on " + url + ": " + report);
            assertThat(report.problems()).as(report.toString()).isEmpty();
            assertThat(report.missed()).as("no fire time is past the misfire threshold here: " + report).isEmpty();
        }
    }

    static final String NO_FIRE_TWICE = """
            SELECT count(*) FROM (SELECT job_id, fire_time FROM tandem.executions WHERE fire_time IS NOT NULL
                                  GROUP BY 1, 2 HAVING count(*) > 1) d""";

    @Test
    @Order(1)
    void aPlannedSwitchoverUnderFiringJobsMovesTheSchedulesWithoutADoubleFire() throws Exception {
        FireSequence.placeAtFireSecond(150); // the switchover starts just before a fire second
        String result = replicatorA.task("switchover?to=b");
        assertThat(result).startsWith("switchover done");
        await().atMost(Machine.deadline(Duration.ofSeconds(15)))
                .until(() -> count(SITES.urlB(), "SELECT count(*) FROM tandem.executions WHERE member_id = 'b1'") >= 6);
        // Site a follows site b again: b's fires reach it.
        await().atMost(Machine.deadline(Duration.ofSeconds(20)))
                .until(() -> count(SITES.urlA(), "SELECT count(*) FROM tandem.executions WHERE member_id = 'b1'") >= 6);
        assertThat(FailoverSites.state(SITES.urlA()).role()).isEqualTo(SiteRole.PASSIVE);
        assertThat(count(SITES.urlB(), NO_FIRE_TWICE)).as("(job, fire time) pairs started twice").isZero();
        assertThat(count(SITES.urlA(), "SELECT count(*) FROM tandem.executions WHERE member_id = 'a1' AND fire_time > "
                + "(SELECT min(fire_time) FROM tandem.executions WHERE member_id = 'b1')")).as("site a fired nothing after site b began").isZero();
        assertWholeFireSequences(SITES.urlB());
    }

    @Test
    @Order(2)
    void whenTheWholeActiveSiteDiesTheOtherStartsJobsWithinTenSecondsAndNoFireTimeStartsTwice() throws Exception {
        await().atMost(Machine.deadline(Duration.ofSeconds(20)))
                .until(() -> String.valueOf(replicatorB.status()).contains("\"lease\":\"site 'b' at epoch 2\"")
                        && String.valueOf(replicatorA.status()).matches("(?s).*\"lastHeartbeatAgeMillis\":\\d.*"));
        FireSequence.placeAtFireSecond(0); // the site dies at a fire second
        long killed = System.nanoTime();
        runtimeB.kill();
        replicatorB.kill();
        SITES.killDatabase("b");

        await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(100))
                .until(() -> count(SITES.urlA(), "SELECT count(*) FROM tandem.executions WHERE member_id = 'a1' AND fire_time > "
                        + "(SELECT max(fire_time) FROM tandem.executions WHERE member_id = 'b1')") > 0);
        Duration rto = Duration.ofNanos(System.nanoTime() - killed);
        System.out.printf("site a started its first job %d ms after site b died%n", rto.toMillis());
        assertThat(rto).as("from the kill to the first job started on the surviving site").isLessThan(Duration.ofSeconds(10));
        assertThat(FailoverSites.state(SITES.urlA()).role()).isEqualTo(SiteRole.ACTIVE);
        assertThat(FailoverSites.state(SITES.urlA()).epoch()).isEqualTo(3);

        long before = count(SITES.urlA(), "SELECT count(*) FROM tandem.executions");
        await().atMost(Machine.deadline(Duration.ofSeconds(20)))
                .until(() -> count(SITES.urlA(), "SELECT count(*) FROM tandem.executions") >= before + 12);
        assertThat(count(SITES.urlA(), NO_FIRE_TWICE)).as("(job, fire time) pairs started twice on the surviving site").isZero();
        // What was running at site b when it died is settled here, not left running forever.
        await().atMost(Machine.deadline(Duration.ofSeconds(10)))
                .until(() -> count(SITES.urlA(), "SELECT count(*) FROM tandem.executions WHERE status = 'running' AND member_id = 'b1'") == 0);
        assertThat(count(SITES.urlA(), "SELECT count(*) FROM tandem_local.site_takeovers WHERE epoch = 3")).isEqualTo(1);
        // The fire times between site b's last one that reached site a and the promotion ran late here.
        assertWholeFireSequences(SITES.urlA());
        assertThat(count(SITES.urlA(), "SELECT count(*) FROM tandem.executions WHERE member_id = 'a1' AND started_at - fire_time > interval '2 seconds'"))
                .as("fire times started late after the takeover").isPositive();
    }
}
