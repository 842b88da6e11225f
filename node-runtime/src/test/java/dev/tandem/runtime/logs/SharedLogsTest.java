package dev.tandem.runtime.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import dev.tandem.runtime.testing.S3Server;
import dev.tandem.runtime.testing.TcpProxy;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two members sharing one database and one real S3 server (S3Mock, reached through a TCP proxy
 * that can cut it): a run on member 1 is followed live from member 2, survives an S3 outage
 * with its whole log arriving afterwards, and honours Rundeck's loglimit.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
@Tag("members")
class SharedLogsTest {
    static final S3Server S3 = S3Server.shared();
    static final TcpProxy PROXY = new TcpProxy(S3.port());
    static final String DB = TestPostgres.newDatabase("sharedlogs");
    static final DropwizardAppExtension<TandemConfiguration> M1 = RuntimeFixture.runtime(DB, "logs-1", s3("logs-1"));
    static final DropwizardAppExtension<TandemConfiguration> M2 = RuntimeFixture.runtime(DB, "logs-2", s3("logs-2"));
    static Api one;
    static Api two;

    private static ConfigOverride[] s3(String member) {
        return new ConfigOverride[] {
                ConfigOverride.config("logs.storage", "s3"),
                ConfigOverride.config("logs.s3.endpoint", "http://127.0.0.1:" + PROXY.port()),
                ConfigOverride.config("logs.s3.bucket", S3Server.BUCKET),
                ConfigOverride.config("logs.s3.prefix", "shared-logs-test/"),
                ConfigOverride.config("logs.s3.pathStyle", "true"),
                ConfigOverride.config("logs.s3.accessKeyId", "test"),
                ConfigOverride.config("logs.s3.secretAccessKey", "test"),
                ConfigOverride.config("logs.s3.timeout", "3s")};
    }

    @BeforeAll
    static void project() {
        one = RuntimeFixture.api(M1);
        two = RuntimeFixture.api(M2);
        assertThat(one.post("/api/v1/projects", Map.of("name", "logs")).status()).isEqualTo(201);
    }

    @AfterAll
    static void close() {
        PROXY.close();
    }

    private static String counter(String name, int lines, String pause) {
        return """
                - name: %s
                  multipleExecutions: true
                  sequence:
                    commands:
                      - script: |
                          i=1
                          while [ $i -le %d ]; do echo "line $i"; i=$((i+1)); sleep %s; done
                """.formatted(name, lines, pause);
    }

    private static List<String> stdout(List<JsonNode> entries) {
        return entries.stream().filter(e -> e.path("stream").asText().equals("stdout")).map(e -> e.path("log").asText()).toList();
    }

    private static List<String> expected(int lines) {
        return IntStream.rangeClosed(1, lines).mapToObj(i -> "line " + i).toList();
    }

    @Test
    void aRunOnMemberOneIsFollowedLiveFromMemberTwo() throws Exception {
        String execution = Runs.start(one, Runs.importJob(one, "logs", counter("followed", 30, "0.1")), Map.of());
        List<JsonNode> followed = new ArrayList<>();
        boolean sawLinesWhileRunning = false;
        long offset = 0;
        long deadline = System.nanoTime() + Machine.deadline(Duration.ofSeconds(60)).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode page = two.get("/api/v1/executions/" + execution + "/output?wait=5&offset=" + offset).json();
            page.path("entries").forEach(followed::add);
            if (page.path("entries").size() > 0 && page.path("execState").asText().equals("running")) {
                sawLinesWhileRunning = true;
            }
            offset = page.path("nextOffset").asLong();
            if (page.path("completed").asBoolean()) {
                break;
            }
        }
        assertThat(sawLinesWhileRunning).as("member 2 reads lines while member 1 still runs the execution").isTrue();
        assertThat(stdout(followed)).isEqualTo(expected(30));
        assertThat(followed.toString()).as("identical to the writing member's own view")
                .isEqualTo(Runs.entries(one, execution).toString());
        assertThat(followed.get(0).path("node").asText()).isEqualTo("logs-1");

        HttpResponse<String> sse = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + M2.getLocalPort() + "/api/v1/executions/" + execution + "/output/follow"))
                .header("Authorization", "Bearer " + RuntimeFixture.ADMIN_TOKEN).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(sse.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        assertThat(sse.body()).contains("\"log\":\"line 1\"").contains("\"log\":\"line 30\"").contains("event: end\ndata: {\"status\":\"succeeded\"");

        String text = two.get("/api/v1/executions/" + execution + "/output/export?format=text").body();
        assertThat(text.lines().filter(l -> l.contains(" stdout: ")).map(l -> l.substring(l.indexOf(" stdout: ") + 9)).toList())
                .isEqualTo(expected(30));
        JsonNode json = two.get("/api/v1/executions/" + execution + "/output/export?format=json").json();
        assertThat(json.size()).isEqualTo(followed.size());
    }

    @Test
    void anS3OutageNeitherStopsTheRunNorLosesALine() throws Exception {
        String execution = Runs.start(one, Runs.importJob(one, "logs", counter("through-outage", 40, "0.05")), Map.of());
        await().atMost(Machine.deadline(Duration.ofSeconds(20))).pollInterval(Duration.ofMillis(50))
                .until(() -> two.get("/api/v1/executions/" + execution + "/output").json().path("entries").size() > 2);
        PROXY.cut();
        try {
            JsonNode finished = Runs.finished(one, execution);
            assertThat(finished.path("status").asText()).as("the execution completes during the outage").isEqualTo("succeeded");
            Api admin = new Api("http://127.0.0.1:" + M1.getAdminPort(), null);
            await().atMost(Machine.deadline(Duration.ofSeconds(20))).pollInterval(Duration.ofMillis(100))
                    .until(() -> admin.get("/healthcheck").json().path("logStorage").path("message").asText().contains("cannot be uploaded"));
            JsonNode health = admin.get("/healthcheck").json().path("logStorage");
            assertThat(health.path("healthy").asBoolean()).isFalse();
            assertThat(health.path("message").asText()).contains("wait in the local spool");
            assertThat(admin.get("/metrics").json().path("gauges").path("tandem.logs.backlog.bytes").path("value").asLong()).isPositive();
            assertThat(stdout(Runs.entries(one, execution))).as("the writing member still reads its spool").isEqualTo(expected(40));
        } finally {
            PROXY.restore();
        }
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).pollInterval(Duration.ofMillis(200))
                .until(() -> two.get("/api/v1/executions/" + execution + "/output?max=10000").json().path("completed").asBoolean());
        assertThat(stdout(Runs.entries(two, execution))).as("the whole log reached S3 once it was back").isEqualTo(expected(40));
        Api admin = new Api("http://127.0.0.1:" + M1.getAdminPort(), null);
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(200))
                .until(() -> admin.get("/healthcheck").json().path("logStorage").path("healthy").asBoolean());
    }

    @Test
    void aPageOfLongLinesStaysBoundedInBytesWhateverMaxSays() {
        String execution = Runs.start(one, Runs.importJob(one, "logs", """
                - name: long-lines
                  sequence:
                    commands:
                      - exec: 'for i in $(seq 1 80); do head -c 60000 /dev/zero | tr "\\0" y; echo; done'
                """), Map.of());
        Runs.finished(one, execution);
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(100))
                .until(() -> two.get("/api/v1/executions/" + execution + "/output?max=1").json().path("sealed").asBoolean());
        JsonNode page = two.get("/api/v1/executions/" + execution + "/output?max=10000").json();
        assertThat(page.path("entries").size()).as("about 2 MiB per page, not 80 lines of 60 KB").isBetween(20, 40);
        assertThat(page.path("completed").asBoolean()).isFalse();
        long lines = stdout(Runs.entries(two, execution)).stream().filter(l -> l.length() == 60000).count();
        assertThat(lines).as("paging on from nextOffset reads every line").isEqualTo(80);
    }

    @Test
    void loglimitHaltStopsTheRunAndTruncateLetsItFinish() {
        JsonNode halted = Runs.finished(one, Runs.start(one, Runs.importJob(one, "logs", """
                - name: chatty-halt
                  loglimit: '5'
                  loglimitAction: halt
                  loglimitStatus: failed
                  sequence:
                    commands:
                      - script: |
                          i=1; while [ $i -le 1000 ]; do echo "line $i"; i=$((i+1)); sleep 0.01; done
                      - exec: echo never
                """), Map.of()));
        assertThat(halted.path("status").asText()).isEqualTo("failed");
        assertThat(halted.path("reason").asText()).isEqualTo("log limit 5 reached");
        List<JsonNode> haltedLog = Runs.entries(one, halted.path("id").asText());
        assertThat(stdout(haltedLog)).isEqualTo(expected(5));
        assertThat(haltedLog.toString()).contains("further output is dropped and the execution is halted");

        JsonNode truncated = Runs.finished(one, Runs.start(one, Runs.importJob(one, "logs", """
                - name: chatty-truncate
                  loglimit: 1KB
                  loglimitAction: truncate
                  sequence:
                    commands:
                      - script: |
                          i=1; while [ $i -le 500 ]; do echo "line $i"; i=$((i+1)); done
                      - exec: touch /dev/null
                """), Map.of()));
        assertThat(truncated.path("status").asText()).as("truncate lets the run finish").isEqualTo("succeeded");
        List<String> kept = stdout(Runs.entries(one, truncated.path("id").asText()));
        assertThat(kept).isEqualTo(expected(kept.size()));
        assertThat(String.join("\n", kept).length() + 1).isBetween(900, 1024);
        assertThat(Runs.entries(one, truncated.path("id").asText()).toString()).contains("log limit 1KB reached; further output is dropped and the execution goes on");
    }
}
