package dev.tandem.runtime.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Rundeck's workflow semantics that need more than one step or more than one member: the
 * keepgoing × error-handler matrix, retries with delay, log levels, and multipleExecutions: false
 * held by the database across two members sharing it.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class WorkflowSemanticsTest {
    static final String DB = TestPostgres.newDatabase("workflow");
    static final DropwizardAppExtension<TandemConfiguration> MEMBER_1 = RuntimeFixture.runtime(DB, "member-w1");
    static final DropwizardAppExtension<TandemConfiguration> MEMBER_2 = RuntimeFixture.runtime(DB, "member-w2");
    static Api api;
    static Api other;

    @BeforeAll
    static void project() {
        api = RuntimeFixture.api(MEMBER_1);
        other = RuntimeFixture.api(MEMBER_2);
        api.post("/api/v1/projects", Map.of("name", "wf"));
    }

    static String job(String yaml) {
        return Runs.importJob(api, "wf", yaml);
    }

    static JsonNode finished(String execution) {
        return Runs.finished(api, execution);
    }

    static List<String> lines(String execution, String stream) {
        return Runs.lines(api, execution, stream);
    }

    /** Rundeck: a handler that succeeds recovers the step when keepgoing is on; a failing one never does. */
    @ParameterizedTest(name = "keepgoing={0}, handler {1}")
    @CsvSource({
            "true,  succeeds, succeeded, 'handler,after'",
            "true,  fails,    failed,    'after'",
            "false, succeeds, failed,    'handler'",
            "false, fails,    failed,    ''"})
    void keepgoingAndErrorHandlerMatrix(boolean keepgoing, String handler, String status, String printed) {
        String id = job("""
                - name: matrix-%s-%s
                  sequence:
                    keepgoing: %s
                    commands:
                      - exec: exit 1
                        errorhandler:
                          exec: %s
                      - exec: echo after
                """.formatted(keepgoing, handler, keepgoing, handler.equals("succeeds") ? "echo handler" : "exit 2"));
        String execution = api.post("/api/v1/jobs/" + id + "/run", Map.of()).json().path("id").asText();
        assertThat(finished(execution).path("status").asText()).isEqualTo(status);
        assertThat(String.join(",", lines(execution, "stdout"))).isEqualTo(printed);
    }

    @Test
    void aFailedRunIsRetriedAfterTheDelayAsALinkedAttempt() {
        Path marker = Machine.tempDir("retry").resolve("first-attempt-done");
        String id = job("""
                - name: flaky
                  retry:
                    retry: '2'
                    delay: 1s
                  sequence:
                    commands:
                      - exec: if [ -f %1$s ]; then echo "second try, attempt $RD_JOB_RETRYATTEMPT"; else touch %1$s; exit 4; fi
                """.formatted(marker));
        String first = api.post("/api/v1/jobs/" + id + "/run", Map.of()).json().path("id").asText();
        JsonNode failed = finished(first);
        assertThat(failed.path("status").asText()).isEqualTo("failed-with-retry");
        assertThat(failed.path("reason").asText()).isEqualTo("step 1 failed: exit code 4; attempt 2 of 3 starts in 1 s");

        await().atMost(Machine.deadline(Duration.ofSeconds(20))).until(() ->
                api.get("/api/v1/projects/wf/executions?status=succeeded&max=1000").json().findValuesAsText("retryOf").contains(first));
        JsonNode second = null;
        for (JsonNode e : api.get("/api/v1/projects/wf/executions?max=1000").json()) {
            if (e.path("retryOf").asText().equals(first)) {
                second = e;
            }
        }
        assertThat(second).isNotNull();
        assertThat(second.path("attempt").asInt()).isEqualTo(2);
        assertThat(second.path("status").asText()).isEqualTo("succeeded");
        assertThat(Duration.between(Instant.parse(failed.path("endedAt").asText()), Instant.parse(second.path("startedAt").asText())))
                .as("the delay is honoured").isGreaterThanOrEqualTo(Duration.ofMillis(900));
        assertThat(lines(second.path("id").asText(), "stdout")).containsExactly("second try, attempt 1");
    }

    @Test
    void retriesStopWhenAttemptsRunOutAndAnAbortIsNeverRetried() {
        String id = job("""
                - name: hopeless
                  retry: '1'
                  sequence:
                    commands:
                      - exec: exit 9
                """);
        String first = api.post("/api/v1/jobs/" + id + "/run", Map.of()).json().path("id").asText();
        assertThat(finished(first).path("status").asText()).isEqualTo("failed-with-retry");
        await().atMost(Machine.deadline(Duration.ofSeconds(20))).until(() ->
                api.get("/api/v1/projects/wf/executions?status=failed&max=1000").json().findValuesAsText("retryOf").contains(first));

        String slow = job("""
                - name: aborted-not-retried
                  retry: '3'
                  sequence:
                    commands:
                      - exec: sleep 60
                """);
        String execution = api.post("/api/v1/jobs/" + slow + "/run", Map.of()).json().path("id").asText();
        api.post("/api/v1/executions/" + execution + "/abort", Map.of());
        assertThat(finished(execution).path("status").asText()).isEqualTo("aborted");
        assertThat(api.get("/api/v1/projects/wf/executions?max=1000").json().findValuesAsText("retryOf")).doesNotContain(execution);
    }

    @Test
    void theJobsLogLevelDecidesWhichOfTandemsOwnMessagesAreWritten() {
        String quiet = job("- name: quiet\n  sequence: {commands: [{exec: echo out}]}\n");
        String verbose = job("- name: chatty\n  loglevel: VERBOSE\n  sequence: {commands: [{exec: echo out}]}\n");
        String q = api.post("/api/v1/jobs/" + quiet + "/run", Map.of()).json().path("id").asText();
        String v = api.post("/api/v1/jobs/" + verbose + "/run", Map.of()).json().path("id").asText();
        finished(q);
        finished(v);
        assertThat(lines(q, "tandem")).noneMatch(l -> l.startsWith("step 1: exec"));
        assertThat(lines(v, "tandem")).contains("step 1: exec echo out");
        assertThat(lines(q, "stdout")).containsExactly("out");
    }

    @Test
    void multipleExecutionsFalseHoldsAcrossMembersSharingTheDatabase() {
        String id = job("""
                - name: singleton
                  multipleExecutions: false
                  sequence:
                    commands:
                      - exec: sleep 30
                """);
        Api.Reply first = api.post("/api/v1/jobs/" + id + "/run", Map.of());
        assertThat(first.status()).isEqualTo(201);
        assertThat(first.json().path("member").asText()).isEqualTo("member-w1");
        Api.Reply second = other.post("/api/v1/jobs/" + id + "/run", Map.of());
        assertThat(second.status()).as("the other member is refused by the database").isEqualTo(409);
        assertThat(second.json().path("error").asText()).contains("already running");

        Api.Reply abort = other.post("/api/v1/executions/" + first.json().path("id").asText() + "/abort", Map.of());
        assertThat(abort.status()).isEqualTo(200);
        assertThat(finished(first.json().path("id").asText()).path("status").asText())
                .as("an abort asked on member 2 stops the run on member 1").isEqualTo("aborted");
        Api.Reply third = other.post("/api/v1/jobs/" + id + "/run", Map.of());
        assertThat(third.status()).isEqualTo(201);
        assertThat(third.json().path("member").asText()).isEqualTo("member-w2");
        other.post("/api/v1/executions/" + third.json().path("id").asText() + "/abort", Map.of());
        finished(third.json().path("id").asText());
    }
}
