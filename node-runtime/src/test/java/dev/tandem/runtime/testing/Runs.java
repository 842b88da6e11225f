package dev.tandem.runtime.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What most tests do through the API: import a job, run it, wait for its end, read its output. */
public final class Runs {
    private Runs() {}

    /** Logs a user in with their password and returns a client holding the new token. */
    public static Api login(Api any, String user, String password) {
        Api.Reply token = any.withToken(null).post("/api/v1/tokens", Map.of("user", user, "password", password));
        assertThat(token.status()).as(token.body()).isEqualTo(201);
        return any.withToken(token.json().path("token").asText());
    }

    /** Imports one job and returns its id. */
    public static String importJob(Api api, String project, String yaml) {
        Api.Reply reply = api.postYaml("/api/v1/projects/" + project + "/jobs/import", yaml);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.json().path("jobs").get(0).path("id").asText();
    }

    /** Starts a run and returns the execution id. */
    public static String start(Api api, String jobId, Map<String, String> options) {
        Api.Reply run = api.post("/api/v1/jobs/" + jobId + "/run", Map.of("options", options));
        assertThat(run.status()).as(run.body()).isEqualTo(201);
        return run.json().path("id").asText();
    }

    /** Waits (with a deadline) until the execution is neither queued nor running, and returns it. */
    public static JsonNode finished(Api api, String execution) {
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(50))
                .until(() -> !Set.of("queued", "running").contains(api.get("/api/v1/executions/" + execution).json().path("status").asText()));
        return api.get("/api/v1/executions/" + execution).json();
    }

    /** Every output line of the execution (all pages), of one stream, or of all when {@code stream} is null. */
    public static List<String> lines(Api api, String execution, String stream) {
        List<String> lines = new ArrayList<>();
        for (JsonNode entry : entries(api, execution)) {
            if (stream == null || entry.path("stream").asText().equals(stream)) {
                lines.add(entry.path("log").asText());
            }
        }
        return lines;
    }

    public static List<JsonNode> entries(Api api, String execution) {
        List<JsonNode> entries = new ArrayList<>();
        long offset = 0;
        while (true) {
            JsonNode page = api.get("/api/v1/executions/" + execution + "/output?max=10000&offset=" + offset).json();
            page.path("entries").forEach(entries::add);
            if (page.path("nextOffset").asLong() == offset) {
                return entries;
            }
            offset = page.path("nextOffset").asLong();
        }
    }
}
