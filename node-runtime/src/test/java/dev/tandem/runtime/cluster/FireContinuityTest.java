package dev.tandem.runtime.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.FireSequence;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import dev.tandem.runtime.testing.Sql;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A site that takes the schedules over resumes every job from the last fire time that reached it,
 * not from now (DESIGN.md invariants 1 and 9): each fire time since then starts once, late, within
 * the misfire threshold (5 s here), and an older one is recorded once as missed, naming the
 * hand-over. The site's role is switched in its database as the replicator switches it: passive
 * (nothing fires, fire times pass), then active at the next epoch (a promotion).
 */
@ExtendWith(DropwizardExtensionsSupport.class)
@Tag("members")
class FireContinuityTest {
    static final String DB = TestPostgres.newDatabase("continuity");
    static final DropwizardAppExtension<TandemConfiguration> M1 = RuntimeFixture.runtime(DB, "m1",
            ConfigOverride.config("cluster.misfireThreshold", "5s"));
    static final String EVERY_SECOND = "* * * * * ?";
    static Api api;

    @BeforeAll
    static void projects() {
        api = RuntimeFixture.api(M1);
        for (String p : List.of("promoted", "late", "paused", "history")) {
            api.post("/api/v1/projects", Map.of("name", p));
        }
    }

    @AfterEach
    void activeAgain() throws SQLException {
        sql("UPDATE tandem_local.site_state SET role = 'active'");
    }

    static List<String> rows(String sql, Object... args) throws SQLException {
        return Sql.rows(DB, sql, args);
    }

    static Instant instant(String sql, Object... args) throws SQLException {
        return Sql.instant(DB, sql, args);
    }

    static void sql(String sql, Object... args) throws SQLException {
        Sql.exec(DB, sql, args);
    }

    static Instant dbNow() throws SQLException {
        return instant("SELECT now()");
    }

    static Instant lastFire(String job) throws SQLException {
        return instant("SELECT max(fire_time) FROM tandem.executions WHERE job_id = ?::uuid", job);
    }

    static String everySecond(String project, String name) {
        return Runs.importJob(api, project, """
                - name: %s
                  multipleExecutions: true
                  schedule: {crontab: '%s'}
                  sequence: {commands: [{exec: 'true'}]}
                """.formatted(name, EVERY_SECOND));
    }

    /**
     * Passive: nothing fires here; returns the last fire time that reached the site. The claims
     * this site made while active are dropped: a site that takes over holds only what was
     * replicated to it (the executions), never the former site's claims, so only the resume point
     * can keep a fire time from running twice.
     */
    static Instant goPassive(String job) throws SQLException {
        sql("UPDATE tandem_local.site_state SET role = 'passive'");
        // A fire claimed before the switch may still commit: wait until the last one stays put.
        Instant[] last = {null};
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).pollInterval(Duration.ofMillis(300))
                .until(() -> {
                    Instant now = lastFire(job);
                    boolean settled = now != null && now.equals(last[0]);
                    last[0] = now;
                    return settled;
                });
        sql("DELETE FROM tandem_local.fire_claims");
        return last[0];
    }

    /** Active at the next epoch, as a promotion leaves the site-state row. */
    static long promote() throws SQLException {
        sql("UPDATE tandem_local.site_state SET role = 'active', epoch = epoch + 1");
        return Long.parseLong(rows("SELECT epoch FROM tandem_local.site_state").get(0));
    }

    static void waitUntilDatabaseTime(Instant at) {
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(100))
                .until(() -> !dbNow().isBefore(at));
    }

    @Test
    void aPromotedSiteStartsEveryFireTimeSinceTheLastThatReachedItLateAndNoneTwice() throws Exception {
        String job = everySecond("promoted", "tick");
        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> lastFire(job) != null);
        Instant first = lastFire(job);
        Instant last = goPassive(job);
        waitUntilDatabaseTime(last.plusSeconds(3)); // three or more fire times pass while nothing fires here
        long epoch = promote();

        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> lastFire(job).isAfter(last.plusSeconds(4)));
        Instant until = lastFire(job);
        FireSequence.Report report = FireSequence.check(DB, UUID.fromString(job), EVERY_SECOND, first, until);
        assertThat(report.problems()).as(report.toString()).isEmpty();
        assertThat(report.missed()).as("every fire time of the gap was within the misfire threshold").isEmpty();
        assertThat(rows("SELECT resumed_because FROM tandem_local.schedules WHERE job_id = ?::uuid", job))
                .containsExactly("site 'a' took over at epoch " + epoch);

        // The gap's fire times ran late, and say so.
        JsonNode history = api.get("/api/v1/jobs/" + job + "/executions?max=1000").json();
        List<JsonNode> gap = new ArrayList<>();
        history.forEach(e -> {
            Instant scheduledFor = Instant.parse(e.get("scheduledFor").asText());
            if (scheduledFor.isAfter(last) && scheduledFor.isBefore(last.plusSeconds(3))) {
                gap.add(e);
            }
        });
        assertThat(gap).hasSize(2);
        assertThat(gap).allSatisfy(e -> {
            assertThat(e.get("executionType").asText()).isEqualTo("scheduled");
            assertThat(Duration.parse(e.get("lateBy").asText())).isGreaterThan(Duration.ofMillis(900));
        });
    }

    @Test
    void fireTimesPastTheThresholdAtAHandOverAreRecordedMissedOnceNamingTheHandOver() throws Exception {
        String job = everySecond("late", "tick");
        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> lastFire(job) != null);
        Instant first = lastFire(job);
        Instant last = goPassive(job);
        waitUntilDatabaseTime(last.plusSeconds(9)); // the first fire times of the gap are past the 5 s threshold
        long epoch = promote();

        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> lastFire(job).isAfter(last.plusSeconds(10)));
        Instant until = lastFire(job);
        FireSequence.Report report = FireSequence.check(DB, UUID.fromString(job), EVERY_SECOND, first, until);
        assertThat(report.problems()).as(report.toString()).isEmpty();
        assertThat(report.missed()).as(report.toString()).hasSizeGreaterThanOrEqualTo(3);
        assertThat(report.missed()).allSatisfy(m -> assertThat(m)
                .contains("missed: site 'a' took over at epoch " + epoch + " at ")
                .contains("s after this fire time, past the misfire threshold of 5 s; no record that it ran had reached this site"));
        // The rest of the gap, within the threshold, ran late rather than being skipped.
        assertThat(rows("""
                SELECT count(*) FROM tandem.executions WHERE job_id = ?::uuid AND status <> 'missed'
                  AND fire_time > ? AND started_at - fire_time > interval '1 second'""", UUID.fromString(job), Timestamp.from(last)).get(0))
                .isNotEqualTo("0");
        JsonNode missed = api.get("/api/v1/jobs/" + job + "/executions?status=missed").json();
        assertThat(missed.size()).isEqualTo(report.missed().size());
        missed.forEach(e -> {
            assertThat(e.get("executionType").asText()).isEqualTo("missed");
            assertThat(Duration.parse(e.get("lateBy").asText())).isGreaterThan(Duration.ofSeconds(5));
        });
    }

    /**
     * Every five seconds; the project's schedules are off for two fire times, switched on, and the
     * site hands over before the next fire: the new site resumes after the switch-on, so the two
     * fire times while it was off are neither run nor recorded missed (the older would be missed,
     * the other run late, if it resumed after the last fire).
     */
    @Test
    void fireTimesWhileTheProjectsSchedulesWereOffAreNeitherRunNorMissedAfterAHandOver() throws Exception {
        String job = Runs.importJob(api, "paused", """
                - name: every-five
                  multipleExecutions: true
                  schedule: {crontab: '*/5 * * * * ?'}
                  sequence: {commands: [{exec: 'true'}]}
                """);
        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> lastFire(job) != null);
        Instant lastBeforeOff = lastFire(job);
        api.put("/api/v1/projects/paused/config", Map.of("scheduleEnabled", false));
        waitUntilDatabaseTime(lastBeforeOff.plusMillis(11_200)); // the fire times +5 s and +10 s pass while off
        assertThat(lastFire(job)).isEqualTo(lastBeforeOff);
        api.put("/api/v1/projects/paused/config", Map.of("scheduleEnabled", true));
        Instant on = instant("SELECT schedules_since FROM tandem.projects WHERE name = 'paused'");
        assertThat(on).isAfter(lastBeforeOff.plusSeconds(11));
        // A config edit that leaves the schedules as they are does not move the resume point.
        api.put("/api/v1/projects/paused/config", Map.of("scheduleEnabled", true, "description", "edited"));
        assertThat(instant("SELECT schedules_since FROM tandem.projects WHERE name = 'paused'")).isEqualTo(on);
        assertThat(goPassive(job)).as("handed over before the first fire after the switch-on").isEqualTo(lastBeforeOff);
        promote();

        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> lastFire(job).isAfter(lastBeforeOff.plusSeconds(14)));
        assertThat(rows("SELECT count(*) FROM tandem.executions WHERE job_id = ?::uuid AND status = 'missed'", UUID.fromString(job)))
                .containsExactly("0");
        assertThat(rows("SELECT count(*) FROM tandem.executions WHERE job_id = ?::uuid AND fire_time > ? AND fire_time < ?",
                UUID.fromString(job), Timestamp.from(lastBeforeOff), Timestamp.from(on)).get(0))
                .as("nothing for the time the project's schedules were off").isEqualTo("0");
        FireSequence.Report report = FireSequence.check(DB, UUID.fromString(job), "*/5 * * * * ?", on, lastFire(job));
        assertThat(report.problems()).as(report.toString()).isEmpty();
    }

    @Test
    void aJobsScheduleResumesFromItsLastChangeOnlyWhenTheScheduleChanged() throws Exception {
        String job = Runs.importJob(api, "history", """
                - name: hourly
                  schedule: {crontab: '0 0 * * * ?'}
                  sequence: {commands: [{exec: 'true'}]}
                """);
        Instant since = instant("SELECT schedule_since FROM tandem.jobs WHERE id = ?::uuid", job);
        Runs.importJob(api, "history", """
                - name: hourly
                  description: only the description changed
                  schedule: {crontab: '0 0 * * * ?'}
                  sequence: {commands: [{exec: 'true'}]}
                """);
        assertThat(instant("SELECT schedule_since FROM tandem.jobs WHERE id = ?::uuid", job)).isEqualTo(since);
        Runs.importJob(api, "history", """
                - name: hourly
                  schedule: {crontab: '0 30 * * * ?'}
                  sequence: {commands: [{exec: 'true'}]}
                """);
        assertThat(instant("SELECT schedule_since FROM tandem.jobs WHERE id = ?::uuid", job)).isAfter(since);
    }

    @Test
    void aJobsHistorySaysWhatStartedEachExecution() throws Exception {
        String job = Runs.importJob(api, "history", """
                - name: flaky
                  retry: '1'
                  sequence: {commands: [{exec: 'false'}]}
                """);
        String run = Runs.start(api, job, Map.of());
        await().atMost(Machine.deadline(Duration.ofSeconds(20)))
                .until(() -> api.get("/api/v1/jobs/" + job + "/executions").json().size() == 2
                        && !api.get("/api/v1/jobs/" + job + "/executions?status=running").json().elements().hasNext());
        JsonNode history = api.get("/api/v1/jobs/" + job + "/executions").json();
        assertThat(history.get(1).get("id").asText()).isEqualTo(run);
        assertThat(history.get(1).get("executionType").asText()).isEqualTo("user");
        assertThat(history.get(1).get("scheduledFor").isNull()).isTrue();
        assertThat(history.get(1).get("lateBy").isNull()).isTrue();
        assertThat(history.get(0).get("executionType").asText()).isEqualTo("retry");
        assertThat(history.get(0).get("retryOf").asText()).isEqualTo(run);
        assertThat(api.get("/api/v1/jobs/" + job + "/executions?status=failed").json().size()).isEqualTo(1);
        assertThat(api.get("/api/v1/jobs/" + job + "/executions?max=1&offset=1").json().get(0).get("id").asText()).isEqualTo(run);
        assertThat(api.get("/api/v1/jobs/" + job + "/executions?status=bogus").status()).isEqualTo(400);
        assertThat(api.get("/api/v1/jobs/" + UUID.randomUUID() + "/executions").status()).isEqualTo(404);
    }
}
