package dev.tandem.runtime.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.db.EmbeddedPostgresServer;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.MemberProcess;
import dev.tandem.runtime.testing.S3Server;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Logs in S3 across member processes: a member killed mid-run leaves everything up to its last
 * checkpoint readable from another member (the run is marked incomplete) and uploads the rest of
 * its spool when it comes back; a 100 MB output runs through a member with a small heap.
 */
class LogStorageFaultIT {
    static EmbeddedPostgresServer pg;
    static final List<MemberProcess> MEMBERS = new ArrayList<>();
    static final String LOGS = "{storage: s3, dir: %2$s/logs, s3: {endpoint: '" + S3Server.shared().endpoint() + "', bucket: "
            + S3Server.BUCKET + ", prefix: fault-it/, pathStyle: true, accessKeyId: test, secretAccessKey: test}}";

    @BeforeAll
    static void members() throws Exception {
        pg = EmbeddedPostgresServer.start(Machine.tempDir("logs-it-pg"), 0, false);
        MEMBERS.add(new MemberProcess("w1", pg.jdbcUrl("postgres"), freePort(), freePort()).withLogs(LOGS).withJvm("-Xmx128m").start());
        MEMBERS.add(new MemberProcess("w2", pg.jdbcUrl("postgres"), freePort(), freePort()).withLogs(LOGS).start());
        await().atMost(Machine.deadline(Duration.ofSeconds(90))).until(() -> MEMBERS.stream().allMatch(MemberProcess::ready));
        assertThat(MEMBERS.get(0).api().post("/api/v1/projects", Map.of("name", "logs")).status()).isEqualTo(201);
    }

    @AfterAll
    static void stop() throws Exception {
        for (MemberProcess member : MEMBERS) {
            member.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    static int freePort() throws Exception {
        return Machine.freePort();
    }

    private static String importJob(Api api, String yaml) {
        Api.Reply reply = api.postYaml("/api/v1/projects/logs/jobs/import", yaml);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.json().path("jobs").get(0).path("id").asText();
    }

    private static List<String> stdout(Api api, String execution) {
        List<String> lines = new ArrayList<>();
        long offset = 0;
        while (true) {
            JsonNode page = api.get("/api/v1/executions/" + execution + "/output?max=10000&offset=" + offset).json();
            page.path("entries").forEach(e -> {
                if (e.path("stream").asText().equals("stdout")) {
                    lines.add(e.path("log").asText());
                }
            });
            if (page.path("nextOffset").asLong() == offset) {
                return lines;
            }
            offset = page.path("nextOffset").asLong();
        }
    }

    /** The numbered lines from 1 to n, none missing, none twice. */
    private static void assertNumberedFromOne(List<String> lines) {
        for (int i = 0; i < lines.size(); i++) {
            assertThat(lines.get(i)).isEqualTo("line " + (i + 1));
        }
    }

    @Test
    void aKilledMemberLeavesItsCheckpointedLinesReadableAndUploadsTheRestWhenItReturns() throws Exception {
        MemberProcess writer = MEMBERS.get(1);
        Api reader = MEMBERS.get(0).api();
        String job = importJob(writer.api(), """
                - name: long-writer
                  sequence:
                    commands:
                      - script: |
                          i=1; while [ $i -le 100000 ]; do echo "line $i"; i=$((i+1)); sleep 0.02; done
                """);
        Api.Reply run = writer.api().post("/api/v1/jobs/" + job + "/run", Map.of());
        assertThat(run.status()).as(run.body()).isEqualTo(201);
        String execution = run.json().path("id").asText();
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(100))
                .until(() -> stdout(reader, execution).size() >= 50);
        writer.kill();
        List<String> checkpointed = stdout(reader, execution);
        assertNumberedFromOne(checkpointed);
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(200))
                .until(() -> reader.get("/api/v1/executions/" + execution).json().path("status").asText().equals("incomplete"));
        JsonNode afterTakeover = reader.get("/api/v1/executions/" + execution + "/output?max=10000").json();
        assertThat(afterTakeover.path("completed").asBoolean()).as("an incomplete run's checkpointed log is all there is, for now").isTrue();
        assertThat(stdout(reader, execution)).startsWith(checkpointed.toArray(String[]::new));

        writer.start();
        await().atMost(Machine.deadline(Duration.ofSeconds(90))).until(writer::ready);
        // What the spool held beyond the last checkpoint (at most one checkpoint interval) is uploaded, and the log sealed.
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(200))
                .until(() -> reader.get("/api/v1/executions/" + execution + "/output?max=1").json().path("sealed").asBoolean());
        List<String> recovered = stdout(reader, execution);
        assertNumberedFromOne(recovered);
        assertThat(recovered.size()).isGreaterThanOrEqualTo(checkpointed.size());
        assertThat(writer.log()).contains("log spool(s) left by an earlier run of this member");
    }

    @Test
    void a100MegabyteOutputStreamsThroughASmallHeap() {
        MemberProcess small = MEMBERS.get(0);
        String job = importJob(small.api(), """
                - name: hundred-megabytes
                  sequence:
                    commands:
                      - exec: head -c 100000000 /dev/zero | tr '\\0' x | fold -w 99; echo done
                """);
        Api.Reply run = small.api().post("/api/v1/jobs/" + job + "/run", Map.of());
        assertThat(run.status()).as(run.body()).isEqualTo(201);
        String execution = run.json().path("id").asText();
        Api reader = MEMBERS.get(1).api();
        await().atMost(Machine.deadline(Duration.ofSeconds(180))).pollInterval(Duration.ofMillis(500))
                .until(() -> reader.get("/api/v1/executions/" + execution + "/output?max=1&offset=0").json().path("sealed").asBoolean()
                        || reader.get("/api/v1/executions/" + execution).json().path("status").asText().matches("failed|incomplete"));
        JsonNode status = reader.get("/api/v1/executions/" + execution).json();
        assertThat(status.path("status").asText()).as(status.toString() + small.log()).isEqualTo("succeeded");
        JsonNode first = reader.get("/api/v1/executions/" + execution + "/output?max=3").json();
        assertThat(first.path("totalSize").asLong()).as("the sealed log holds the whole output").isGreaterThan(100_000_000L);
        assertThat(first.path("entries").get(1).path("log").asText()).isEqualTo("x".repeat(99));
        assertThat(small.ready()).as("the member with a 128 MB heap is still serving").isTrue();
        assertThat(small.log()).doesNotContain("OutOfMemoryError");
    }
}
