package dev.tandem.runtime.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.db.EmbeddedPostgresServer;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.FireSequence;
import dev.tandem.runtime.testing.MemberProcess;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The long soak (run with -Psoak, not in CI): 3 member processes, 50 jobs firing every second,
 * a random member SIGKILLed every {@code soak.killEverySeconds} and restarted, for
 * {@code soak.minutes}. At the end: no (job, fire time) started twice, none lost, and the takeover
 * time of every kill (kill → its schedules owned by live members). Kills land just before, at and
 * just after a fire second. At the end every job's whole fire sequence is checked: each fire time
 * ran once or was recorded missed. Writes its figures as JSON to target/soak-result.json.
 */
class ClusterSoakIT {
    final int minutes = Integer.getInteger("soak.minutes", 10);
    final int jobs = Integer.getInteger("soak.jobs", 50);
    final int killEvery = Integer.getInteger("soak.killEverySeconds", 30);
    /** Stop after this many kills of a member that owned schedules (0: only the time limit). */
    final int takeoversWanted = Integer.getInteger("soak.takeovers", 0);
    int pgPort;

    @Test
    void tenMinutesOfKillsLoseAndDuplicateNothing() throws Exception {
        Path pgDir = Machine.tempDir("soak-pg");
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(pgDir, 0, true)) {
            pgPort = pg.port();
            List<MemberProcess> members = new ArrayList<>();
            for (String id : List.of("s1", "s2", "s3")) {
                members.add(new MemberProcess(id, pg.jdbcUrl("postgres"), freePort(), freePort()).start());
            }
            try {
                await().atMost(Duration.ofSeconds(120)).until(() -> members.stream().allMatch(MemberProcess::ready));
                Api api = members.get(0).api();
                api.post("/api/v1/projects", Map.of("name", "soak"));
                List<java.util.UUID> jobIds = new ArrayList<>();
                for (int i = 0; i < jobs; i++) {
                    Api.Reply reply = members.get(i % 3).api().postYaml("/api/v1/projects/soak/jobs/import", """
                            - name: job-%d
                              multipleExecutions: true
                              schedule: {crontab: '* * * * * ?'}
                              sequence: {commands: [{exec: 'true'}]}
                            """.formatted(i));
                    assertThat(reply.status()).as(reply.body()).isEqualTo(200);
                    jobIds.add(java.util.UUID.fromString(reply.json().get("jobs").get(0).get("id").asText()));
                }
                Random random = new Random(7);
                List<Long> takeoverMillis = new ArrayList<>();
                int kills = 0;
                long end = System.nanoTime() + Duration.ofMinutes(minutes).toNanos();
                while (System.nanoTime() < end - Duration.ofSeconds(killEvery).toNanos()
                        && (takeoversWanted == 0 || takeoverMillis.size() < takeoversWanted)) {
                    // Between kills the cluster must have made progress: about killEvery seconds of fires of every job.
                    long before = count("SELECT count(*) FROM tandem.executions");
                    await().atMost(Duration.ofSeconds(killEvery * 3L)).pollInterval(Duration.ofMillis(200))
                            .until(() -> count("SELECT count(*) FROM tandem.executions") >= before + (long) jobs * killEvery * 9 / 10);
                    int index = takeoversWanted > 0 ? ownerIndex(members) : random.nextInt(3);
                    MemberProcess victim = members.get(index);
                    kills++;
                    FireSequence.placeAtFireSecond(KILL_OFFSETS_MILLIS[kills % KILL_OFFSETS_MILLIS.length]);
                    long owned = count("SELECT count(*) FROM tandem_local.schedules WHERE owner_member = '" + victim.id() + "'");
                    long killedAt = System.nanoTime();
                    victim.kill();
                    if (owned > 0) {
                        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                                .until(() -> count("SELECT count(*) FROM tandem_local.schedules WHERE owner_member = '" + victim.id() + "'") == 0);
                        takeoverMillis.add(Duration.ofNanos(System.nanoTime() - killedAt).toMillis());
                    }
                    MemberProcess again = new MemberProcess(victim.id(), pg.jdbcUrl("postgres"), freePort(), freePort()).start();
                    members.set(index, again);
                    await().atMost(Duration.ofSeconds(120)).until(again::ready);
                }
                // The whole fire sequence of every job, from its first fire to a few seconds ago: each fire
                // time ran once or was recorded missed (a member killed or restarted hands over within the
                // dead time, far inside the misfire threshold, so none should be missed).
                FireSequence.Tally tally = new FireSequence.Tally();
                java.time.Instant until = java.time.Instant.ofEpochSecond(count("SELECT extract(epoch FROM now())::bigint - 3"));
                String url = "jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres";
                for (java.util.UUID job : jobIds) {
                    java.time.Instant first = java.time.Instant.ofEpochSecond(
                            count("SELECT extract(epoch FROM min(fire_time))::bigint FROM tandem.executions WHERE job_id = '" + job + "'"));
                    tally.add(FireSequence.check(url, job, "* * * * * ?", first, until));
                }
                takeoverMillis.sort(null);
                String json = String.format("{\"benchmark\":\"cluster-soak\",\"minutes\":%d,\"jobs\":%d,\"kills\":%d,\"takeovers\":%d,%s,"
                                + "\"takeoverP50Ms\":%d,\"takeoverP99Ms\":%d,\"takeoverMaxMs\":%d}",
                        minutes, jobs, kills, takeoverMillis.size(), tally.jsonFields(), percentile(takeoverMillis, 50),
                        percentile(takeoverMillis, 99), takeoverMillis.isEmpty() ? 0 : takeoverMillis.get(takeoverMillis.size() - 1));
                Files.writeString(Path.of("target", "soak-result.json"), json + "\n");
                System.out.println(json);
                assertThat(tally.problems()).as("fire times lost or started twice").isEmpty();
                assertThat(tally.missed()).as("fire times missed").isEmpty();
            } finally {
                for (MemberProcess member : members) {
                    member.close();
                }
            }
        }
    }

    /** Kills land just before, at and just after a fire second, in turn. */
    static final long[] KILL_OFFSETS_MILLIS = {150, 0, -150};

    /** The member owning the most schedules, so that every kill exercises a takeover. */
    int ownerIndex(List<MemberProcess> members) throws SQLException {
        int best = 0;
        long most = -1;
        for (int i = 0; i < members.size(); i++) {
            long owned = count("SELECT count(*) FROM tandem_local.schedules WHERE owner_member = '" + members.get(i).id() + "'");
            if (owned > most) {
                most = owned;
                best = i;
            }
        }
        return best;
    }

    static long percentile(List<Long> sorted, int p) {
        return sorted.isEmpty() ? 0 : sorted.get(Math.max(0, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    long count(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres", "postgres", "");
             ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
