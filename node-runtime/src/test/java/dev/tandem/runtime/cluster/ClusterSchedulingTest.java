package dev.tandem.runtime.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import dev.tandem.runtime.testing.Sql;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Three members on one database: scheduling, ownership, misfires, switches, the cluster manager and forwarding. */
@ExtendWith(DropwizardExtensionsSupport.class)
@Tag("members")
class ClusterSchedulingTest {
    static final String DB = TestPostgres.newDatabase("cluster");
    static final DropwizardAppExtension<TandemConfiguration> M1 = RuntimeFixture.runtime(DB, "m1");
    static final DropwizardAppExtension<TandemConfiguration> M2 = RuntimeFixture.runtime(DB, "m2");
    static final DropwizardAppExtension<TandemConfiguration> M3 = RuntimeFixture.runtime(DB, "m3");
    static Api a1;
    static Api a2;
    static Api a3;

    @BeforeAll
    static void projects() {
        a1 = RuntimeFixture.api(M1);
        a2 = RuntimeFixture.api(M2);
        a3 = RuntimeFixture.api(M3);
        for (String p : List.of("sched", "misfire", "switched", "forward", "ops", "batch", "locked")) {
            a1.post("/api/v1/projects", Map.of("name", p));
        }
    }

    static String importJob(Api api, String project, String yaml) {
        return Runs.importJob(api, project, yaml);
    }

    static List<String> rows(String sql, Object... args) throws SQLException {
        return Sql.rows(DB, sql, args);
    }

    static void sql(String sql, Object... args) throws SQLException {
        Sql.exec(DB, sql, args);
    }

    static int executionsOf(String jobId) throws SQLException {
        return Integer.parseInt(rows("SELECT count(*) FROM tandem.executions WHERE job_id = ?::uuid", jobId).get(0));
    }

    @Test
    void aJobFiresEverySecondOnlyOnTheMemberThatLastModifiedIt() throws Exception {
        String job = importJob(a2, "sched", """
                - name: every-second
                  multipleExecutions: true
                  schedule:
                    crontab: '* * * * * ?'
                  sequence:
                    commands:
                      - exec: 'true'
                """);
        assertThat(rows("SELECT owner_member FROM tandem_local.schedules WHERE job_id = ?::uuid", job)).containsExactly("m2");
        await().atMost(Machine.deadline(Duration.ofSeconds(15))).until(() -> executionsOf(job) >= 4);
        assertThat(rows("SELECT DISTINCT member_id FROM tandem.executions WHERE job_id = ?::uuid", job)).containsExactly("m2");
        List<String> fireTimes = rows("SELECT fire_time FROM tandem.executions WHERE job_id = ?::uuid ORDER BY fire_time", job);
        assertThat(fireTimes).doesNotHaveDuplicates();
        assertThat(rows("SELECT count(*) FROM tandem.executions WHERE job_id = ?::uuid AND status = 'missed'", job)).containsExactly("0");
        List<String> gaps = rows("""
                SELECT extract(epoch FROM fire_time - lag(fire_time) OVER (ORDER BY fire_time))::text FROM tandem.executions
                WHERE job_id = ?::uuid ORDER BY fire_time OFFSET 1""", job);
        assertThat(gaps).allSatisfy(g -> assertThat(Double.parseDouble(g)).isEqualTo(1.0));

        importJob(a3, "sched", """
                - name: every-second
                  multipleExecutions: true
                  description: changed through m3
                  schedule:
                    crontab: '* * * * * ?'
                  sequence:
                    commands:
                      - exec: 'true'
                """);
        assertThat(rows("SELECT owner_member FROM tandem_local.schedules WHERE job_id = ?::uuid", job)).as("the last modifier owns it").containsExactly("m3");
        await().atMost(Machine.deadline(Duration.ofSeconds(10)))
                .until(() -> rows("SELECT DISTINCT member_id FROM tandem.executions WHERE job_id = ?::uuid", job).contains("m3"));
        a3.delete("/api/v1/jobs/" + job);
        assertThat(rows("SELECT count(*) FROM tandem_local.schedules WHERE job_id = ?::uuid", job)).containsExactly("0");
    }

    @Test
    void fireTimesPastTheMisfireThresholdAreRecordedOnceAsMissedNotFiredInABurst() throws Exception {
        String job = importJob(a1, "misfire", """
                - name: hourly
                  schedule:
                    crontab: '0 0 * * * ?'
                  sequence:
                    commands:
                      - exec: 'true'
                """);
        sql("UPDATE tandem_local.schedules SET next_fire_at = date_trunc('hour', now()) - interval '3 hours' WHERE job_id = ?::uuid", job);
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> executionsOf(job) >= 3);
        await().during(Duration.ofSeconds(1)).atMost(Machine.deadline(Duration.ofSeconds(5))).until(() -> executionsOf(job) <= 4);
        List<String> statuses = rows("""
                SELECT status FROM tandem.executions WHERE job_id = ?::uuid AND fire_time < date_trunc('hour', now()) ORDER BY fire_time""", job);
        assertThat(statuses).containsExactly("missed", "missed", "missed");
        assertThat(rows("SELECT reason FROM tandem.executions WHERE job_id = ?::uuid AND status = 'missed' LIMIT 1", job).get(0))
                .contains("past the misfire threshold of 60 s");
        assertThat(rows("SELECT count(*) FROM tandem.executions WHERE job_id = ?::uuid GROUP BY fire_time HAVING count(*) > 1", job)).isEmpty();
        assertThat(rows("SELECT next_fire_at > now() FROM tandem_local.schedules WHERE job_id = ?::uuid", job)).containsExactly("t");
    }

    @Test
    void switchedOffSchedulesAndProjectsDoNotFire() throws Exception {
        String off = importJob(a1, "switched", """
                - name: off
                  scheduleEnabled: false
                  schedule: {crontab: '* * * * * ?'}
                  sequence: {commands: [{exec: 'true'}]}
                """);
        assertThat(rows("SELECT count(*) FROM tandem_local.schedules WHERE job_id = ?::uuid", off)).containsExactly("0");
        a1.put("/api/v1/projects/switched/config", Map.of("scheduleEnabled", false));
        String on = importJob(a1, "switched", """
                - name: on
                  multipleExecutions: true
                  schedule: {crontab: '* * * * * ?'}
                  sequence: {commands: [{exec: 'true'}]}
                """);
        await().during(Duration.ofSeconds(3)).atMost(Machine.deadline(Duration.ofSeconds(6))).until(() -> executionsOf(on) == 0);
        a1.put("/api/v1/projects/switched/config", Map.of("scheduleEnabled", true));
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> executionsOf(on) > 0);
        a1.delete("/api/v1/jobs/" + on);
        assertThat(executionsOf(off)).isZero();
    }

    /**
     * Due schedules are claimed in one transaction per batch. A schedule whose fire fails in the
     * database (here a trigger refuses its execution row) rolls that batch back; the others of the
     * batch must still fire, every second, and the broken one must move on instead of blocking.
     */
    @Test
    void aScheduleThatFailsInTheDatabaseDoesNotHoldBackTheOthersOfItsBatch() throws Exception {
        sql("""
                CREATE FUNCTION public.refuse_broken() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'refused by the test trigger'; END $$""");
        sql("""
                CREATE TRIGGER refuse_broken BEFORE INSERT ON tandem.executions FOR EACH ROW
                WHEN (NEW.job_name = 'batch-broken') EXECUTE FUNCTION public.refuse_broken()""");
        try {
            List<String> ids = new ArrayList<>();
            for (String name : List.of("batch-good-1", "batch-broken", "batch-good-2")) {
                ids.add(importJob(a1, "batch", """
                        - name: %s
                          multipleExecutions: true
                          schedule: {crontab: '* * * * * ?'}
                          sequence: {commands: [{type: tandem-noop}]}
                        """.formatted(name)));
            }
            String broken = ids.get(1);
            await().atMost(Machine.deadline(Duration.ofSeconds(15)))
                    .until(() -> executionsOf(ids.get(0)) >= 4 && executionsOf(ids.get(2)) >= 4);
            for (String good : List.of(ids.get(0), ids.get(2))) {
                List<String> gaps = rows("""
                        SELECT extract(epoch FROM fire_time - lag(fire_time) OVER (ORDER BY fire_time))::text FROM tandem.executions
                        WHERE job_id = ?::uuid ORDER BY fire_time OFFSET 1""", good);
                assertThat(gaps).as("a good schedule fires every second beside the broken one").allSatisfy(g -> assertThat(Double.parseDouble(g)).isEqualTo(1.0));
            }
            assertThat(executionsOf(broken)).isZero();
            Instant before = Instant.parse(rows("SELECT to_char(next_fire_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM tandem_local.schedules WHERE job_id = ?::uuid", broken).get(0));
            await().atMost(Machine.deadline(Duration.ofSeconds(5))).until(() -> Instant.parse(rows(
                    "SELECT to_char(next_fire_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM tandem_local.schedules WHERE job_id = ?::uuid",
                    broken).get(0)).isAfter(before));
            for (String id : ids) {
                a1.delete("/api/v1/jobs/" + id);
            }
        } finally {
            sql("DROP TRIGGER refuse_broken ON tandem.executions");
            sql("DROP FUNCTION public.refuse_broken()");
        }
    }

    /**
     * The scheduler never waits for a schedule row another transaction holds (an import, a move, a
     * delete): it leaves that schedule due and fires the others. Once the row is free the held
     * schedule catches up: every fire time of the pause starts, late but within the misfire
     * threshold, none lost and none twice.
     */
    @Test
    void aScheduleRowHeldByAnotherTransactionIsSkippedNotWaitedFor() throws Exception {
        String held = importJob(a1, "locked", """
                - name: held
                  multipleExecutions: true
                  schedule: {crontab: '* * * * * ?'}
                  sequence: {commands: [{type: tandem-noop}]}
                """);
        String free = importJob(a1, "locked", """
                - name: free
                  multipleExecutions: true
                  schedule: {crontab: '* * * * * ?'}
                  sequence: {commands: [{type: tandem-noop}]}
                """);
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> executionsOf(held) >= 1 && executionsOf(free) >= 1);
        try (Connection lock = TestPostgres.connect(DB)) {
            lock.setAutoCommit(false);
            try (PreparedStatement s = lock.prepareStatement("SELECT 1 FROM tandem_local.schedules WHERE job_id = ?::uuid FOR UPDATE")) {
                s.setString(1, held);
                s.executeQuery().close();
            }
            int heldBefore = executionsOf(held);
            int freeBefore = executionsOf(free);
            await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> executionsOf(free) >= freeBefore + 3);
            assertThat(executionsOf(held)).as("the held schedule waits while its row is locked").isLessThanOrEqualTo(heldBefore + 1);
            lock.rollback();
        }
        int freeNow = executionsOf(free);
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> executionsOf(held) >= freeNow);
        a1.delete("/api/v1/jobs/" + held);
        a1.delete("/api/v1/jobs/" + free);
        List<String> gaps = rows("""
                SELECT extract(epoch FROM fire_time - lag(fire_time) OVER (ORDER BY fire_time))::text FROM tandem.executions
                WHERE job_id = ?::uuid ORDER BY fire_time OFFSET 1""", held);
        assertThat(gaps).as("every fire time of the pause started afterwards, none twice").allSatisfy(g -> assertThat(Double.parseDouble(g)).isEqualTo(1.0));
        assertThat(rows("SELECT count(*) FROM tandem.executions WHERE job_id = ?::uuid AND status = 'missed'", held)).containsExactly("0");
    }

    @Test
    void aPassiveSiteFiresNothing() throws Exception {
        String job = importJob(a1, "sched", """
                - name: passive-check
                  multipleExecutions: true
                  schedule: {crontab: '* * * * * ?'}
                  sequence: {commands: [{exec: 'true'}]}
                """);
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> executionsOf(job) > 0);
        sql("UPDATE tandem_local.site_state SET role = 'passive'");
        try {
            int before = executionsOf(job);
            await().during(Duration.ofSeconds(3)).atMost(Machine.deadline(Duration.ofSeconds(6))).until(() -> executionsOf(job) == before);
        } finally {
            sql("UPDATE tandem_local.site_state SET role = 'active'");
        }
        a1.delete("/api/v1/jobs/" + job);
    }

    @Test
    void theClusterManagerListsDrainsPausesAndMoves() throws Exception {
        JsonNode members = a1.get("/api/v1/cluster/members").json();
        assertThat(members.findValuesAsText("id")).contains("m1", "m2", "m3");
        for (JsonNode m : members) {
            assertThat(m.path("state").asText()).isEqualTo("active");
            assertThat(m.path("heartbeatAgeMillis").asLong()).isLessThan(2000);
        }
        String job = importJob(a3, "ops", """
                - name: on-m3
                  schedule: {crontab: '0 0 4 * * ?'}
                  sequence: {commands: [{exec: 'true'}]}
                """);
        Api.Reply drain = a1.post("/api/v1/cluster/members/m3/drain", Map.of());
        assertThat(drain.status()).isEqualTo(200);
        assertThat(drain.json().path("decision").asText()).contains("drained member m3").contains("1 schedule(s) moved");
        assertThat(rows("SELECT owner_member FROM tandem_local.schedules WHERE job_id = ?::uuid", job).get(0)).isIn("m1", "m2");
        assertThat(a3.withToken(null).get("/health/ready").status()).isEqualTo(503);
        Api.Reply refused = a3.post("/api/v1/jobs/" + job + "/run", Map.of());
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.json().path("error").asText()).contains("member m3 is draining");
        a1.post("/api/v1/cluster/members/m3/undrain", Map.of());
        assertThat(a3.withToken(null).get("/health/ready").status()).isEqualTo(200);

        Api.Reply move = a1.post("/api/v1/cluster/schedules/move", Map.of("from", rows("SELECT owner_member FROM tandem_local.schedules WHERE job_id = ?::uuid", job).get(0), "to", "m3"));
        assertThat(move.json().path("decision").asText()).contains("to member m3");
        assertThat(rows("SELECT owner_member FROM tandem_local.schedules WHERE job_id = ?::uuid", job)).containsExactly("m3");

        assertThat(a1.post("/api/v1/cluster/members/m3/pause", Map.of()).status()).isEqualTo(200);
        assertThat(a1.get("/api/v1/cluster/members").json().findParents("id").stream()
                .filter(m -> m.path("id").asText().equals("m3")).findFirst().orElseThrow().path("schedulesPaused").asBoolean()).isTrue();
        a1.post("/api/v1/cluster/members/m3/resume", Map.of());
        assertThat(a1.get("/api/v1/cluster/decisions").json().findValuesAsText("sentence"))
                .anySatisfy(s -> assertThat(s).contains("paused the schedules of member m3"));
        assertThat(a1.post("/api/v1/cluster/members/nobody/drain", Map.of()).status()).isEqualTo(404);
    }

    @Test
    void aBadRemoteExecutionPolicyIsRefusedWhenSaved() {
        Api.Reply badRegex = a1.put("/api/v1/projects/ops/config", Map.of("remoteExecution", Map.of("policy", "preset", "members", List.of("/[/"))));
        assertThat(badRegex.status()).isEqualTo(400);
        assertThat(badRegex.json().path("where").asText()).isEqualTo("remoteExecution.members[0]");
        Api.Reply badPolicy = a1.put("/api/v1/projects/ops/config", Map.of("remoteExecution", Map.of("policy", "fastest")));
        assertThat(badPolicy.status()).isEqualTo(400);
        assertThat(badPolicy.json().path("error").asText()).contains("not 'fastest'");
    }

    @Test
    void scheduledFiresFollowTheProjectsPolicyToo() throws Exception {
        a1.post("/api/v1/projects", Map.of("name", "scheduled-forward",
                "config", Map.of("remoteExecution", Map.of("policy", "preset", "members", List.of("m3")))));
        String job = importJob(a1, "scheduled-forward", """
                - name: forwarded-tick
                  multipleExecutions: true
                  schedule: {crontab: '* * * * * ?'}
                  sequence: {commands: [{exec: 'true'}]}
                """);
        assertThat(rows("SELECT owner_member FROM tandem_local.schedules WHERE job_id = ?::uuid", job)).containsExactly("m1");
        await().atMost(Machine.deadline(Duration.ofSeconds(15)))
                .until(() -> Integer.parseInt(rows("SELECT count(*) FROM tandem.executions WHERE job_id = ?::uuid AND status = 'succeeded'", job).get(0)) >= 3);
        assertThat(rows("SELECT DISTINCT member_id FROM tandem.executions WHERE job_id = ?::uuid", job)).containsExactly("m3");
        a1.delete("/api/v1/jobs/" + job);
    }

    @Test
    void aProjectPolicyForwardsRunsToAnotherMemberWhichPicksThemUpQuickly() throws Exception {
        a1.put("/api/v1/projects/forward/config", Map.of("remoteExecution", Map.of("policy", "preset", "members", List.of("other"))));
        String job = importJob(a1, "forward", "- name: fwd\n  multipleExecutions: true\n  sequence: {commands: [{exec: echo forwarded}]}\n");
        List<String> members = new ArrayList<>();
        List<Long> pickups = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Instant sent = Instant.now();
            Api.Reply run = a1.post("/api/v1/jobs/" + job + "/run", Map.of());
            assertThat(run.status()).as(run.body()).isEqualTo(201);
            assertThat(run.json().path("status").asText()).isEqualTo("queued");
            String id = run.json().path("id").asText();
            await().atMost(Machine.deadline(Duration.ofSeconds(10))).pollInterval(Duration.ofMillis(10))
                    .until(() -> a1.get("/api/v1/executions/" + id).json().path("status").asText().equals("succeeded"));
            JsonNode done = a1.get("/api/v1/executions/" + id).json();
            members.add(done.path("member").asText());
            pickups.add(Duration.between(sent, Instant.parse(done.path("endedAt").asText())).toMillis());
        }
        assertThat(members).doesNotContain("m1").containsAnyOf("m2", "m3");
        pickups.sort(null);
        assertThat(pickups.get(pickups.size() - 1)).as("run call to finished, through the queue").isLessThan(2000);
        assertThat(a1.get("/api/v1/cluster/decisions").json().findValuesAsText("sentence"))
                .anySatisfy(s -> assertThat(s).contains("policy preset of project 'forward' chose member"));
    }
}
