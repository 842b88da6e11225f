package dev.tandem.runtime.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every endpoint of the foundation over real HTTP, with its error cases. */
@ExtendWith(DropwizardExtensionsSupport.class)
class ApiOverHttpTest {
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime("api");

    static final String JOB = """
            - name: greet
              group: ops/hello
              description: prints a greeting
              options:
                - name: who
                  value: world
              sequence:
                commands:
                  - exec: echo "hello ${option.who}"
                  - script: |
                      echo "line one"
                      echo "line two" >&2
            """;

    Api api() {
        return RuntimeFixture.api(APP);
    }

    @Test
    void everyApiCallWithoutAValidTokenIsRefusedWith401() {
        Api anonymous = api().withToken(null);
        for (String path : List.of("/api/v1/projects", "/api/v1/tokens", "/api/v1/executions/00000000-0000-0000-0000-000000000000")) {
            Api.Reply reply = anonymous.get(path);
            assertThat(reply.status()).as(path).isEqualTo(401);
            assertThat(reply.json().path("error").asText()).contains("Bearer");
            assertThat(reply.header("WWW-Authenticate")).startsWith("Bearer");
        }
        assertThat(anonymous.post("/api/v1/projects", Map.of("name", "sneaky")).status()).isEqualTo(401);
        assertThat(api().withToken("tdm_not-a-real-token").get("/api/v1/projects").status()).isEqualTo(401);
        assertThat(api().get("/api/v1/projects").status()).isEqualTo(200);
        assertThat(api().get("/api/v1/projects").json().findValuesAsText("name")).doesNotContain("sneaky");
    }

    @Test
    void projectsAreCreatedListedConfiguredAndDeleted() {
        Api.Reply created = api().post("/api/v1/projects", Map.of("name", "alpha", "description", "first", "config", Map.of("k", "v")));
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.header("Location")).isEqualTo("http://tandem.example.test/api/v1/projects/alpha");
        assertThat(created.json().path("description").asText()).isEqualTo("first");

        assertThat(api().post("/api/v1/projects", Map.of("name", "alpha")).status()).isEqualTo(409);
        Api.Reply badName = api().post("/api/v1/projects", Map.of("name", "no spaces please"));
        assertThat(badName.status()).isEqualTo(400);
        assertThat(badName.json().path("where").asText()).isEqualTo("name");

        assertThat(api().get("/api/v1/projects").json().findValuesAsText("name")).contains("alpha");
        assertThat(api().get("/api/v1/projects/alpha").json().path("config").path("k").asText()).isEqualTo("v");
        assertThat(api().get("/api/v1/projects/alpha/config").json().path("k").asText()).isEqualTo("v");

        Api.Reply put = api().put("/api/v1/projects/alpha/config", Map.of("execution", Map.of("enabled", true), "k", "w"));
        assertThat(put.status()).isEqualTo(200);
        JsonNode config = api().get("/api/v1/projects/alpha/config").json();
        assertThat(config.path("k").asText()).isEqualTo("w");
        assertThat(config.path("execution").path("enabled").asBoolean()).isTrue();

        assertThat(api().delete("/api/v1/projects/alpha").status()).isEqualTo(204);
        Api.Reply gone = api().get("/api/v1/projects/alpha");
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.json().path("error").asText()).isEqualTo("project 'alpha' not found");
        assertThat(api().get("/api/v1/projects/alpha/config").status()).isEqualTo(404);
        assertThat(api().put("/api/v1/projects/alpha/config", Map.of()).status()).isEqualTo(404);
        assertThat(api().delete("/api/v1/projects/alpha").status()).isEqualTo(404);
    }

    @Test
    void jobsAreImportedListedExportedFetchedRunAndDeleted() {
        api().post("/api/v1/projects", Map.of("name", "beta"));
        Api.Reply imported = api().postYaml("/api/v1/projects/beta/jobs/import", JOB);
        assertThat(imported.status()).as(imported.body()).isEqualTo(200);
        JsonNode job = imported.json().path("jobs").get(0);
        assertThat(job.path("action").asText()).isEqualTo("created");
        String id = job.path("id").asText();
        assertThat(job.path("href").asText()).isEqualTo("http://tandem.example.test/api/v1/jobs/" + id);

        Api.Reply again = api().postYaml("/api/v1/projects/beta/jobs/import", JOB.replace("prints a greeting", "greets"));
        assertThat(again.json().path("jobs").get(0).path("action").asText()).isEqualTo("updated");
        assertThat(again.json().path("jobs").get(0).path("id").asText()).isEqualTo(id);

        JsonNode list = api().get("/api/v1/projects/beta/jobs").json();
        assertThat(list).hasSize(1);
        assertThat(list.get(0).path("group").asText()).isEqualTo("ops/hello");
        assertThat(list.get(0).path("description").asText()).isEqualTo("greets");

        JsonNode full = api().get("/api/v1/jobs/" + id).json();
        assertThat(full.path("definition").path("sequence").path("commands")).hasSize(2);
        String uuid = full.path("uuid").asText();
        assertThat(api().get("/api/v1/jobs/" + uuid).json().path("id").asText()).as("found by its Rundeck uuid too").isEqualTo(id);

        Api.Reply yaml = api().get("/api/v1/jobs/" + id + "?format=yaml");
        assertThat(yaml.status()).isEqualTo(200);
        assertThat(yaml.header("Content-Type")).startsWith("application/yaml");
        assertThat(yaml.body()).contains("name: greet").contains("uuid: " + uuid);
        assertThat(api().get("/api/v1/jobs/" + id + "?format=xml").status()).isEqualTo(400);

        Api.Reply export = api().get("/api/v1/projects/beta/jobs/export");
        assertThat(export.status()).isEqualTo(200);
        assertThat(export.body()).startsWith("- name: greet");

        Api.Reply run = api().post("/api/v1/jobs/" + id + "/run", Map.of("options", Map.of("who", "operator")));
        assertThat(run.status()).as(run.body()).isEqualTo(201);
        String execution = run.json().path("id").asText();
        assertThat(run.json().path("status").asText()).isEqualTo("running");
        assertThat(run.header("Location")).isEqualTo("http://tandem.example.test/api/v1/executions/" + execution);
        JsonNode done = awaitEnd(execution);
        assertThat(done.path("status").asText()).isEqualTo("succeeded");
        assertThat(done.path("options").path("who").asText()).isEqualTo("operator");

        JsonNode executions = api().get("/api/v1/projects/beta/executions").json();
        assertThat(executions.findValuesAsText("id")).contains(execution);
        assertThat(api().get("/api/v1/projects/beta/executions?status=failed").json()).isEmpty();
        assertThat(api().get("/api/v1/projects/beta/executions?status=bogus").status()).isEqualTo(400);

        assertThat(api().delete("/api/v1/jobs/" + id).status()).isEqualTo(204);
        assertThat(api().get("/api/v1/jobs/" + id).status()).isEqualTo(404);
        assertThat(api().post("/api/v1/jobs/" + id + "/run", Map.of()).status()).isEqualTo(404);
        assertThat(api().get("/api/v1/executions/" + execution).json().path("status").asText())
                .as("history outlives the job").isEqualTo("succeeded");
        assertThat(api().postYaml("/api/v1/projects/nope/jobs/import", JOB).status()).isEqualTo(404);
        assertThat(api().get("/api/v1/projects/nope/jobs").status()).isEqualTo(404);
        assertThat(api().get("/api/v1/projects/nope/executions").status()).isEqualTo(404);
    }

    @Test
    void outputIsReadInPagesByOffsetWithEveryLineKeepingTimeNodeStepAndStream() {
        api().post("/api/v1/projects", Map.of("name", "gamma"));
        String id = api().postYaml("/api/v1/projects/gamma/jobs/import", JOB).json().path("jobs").get(0).path("id").asText();
        String execution = api().post("/api/v1/jobs/" + id + "/run", Map.of()).json().path("id").asText();
        awaitEnd(execution);

        List<JsonNode> lines = new ArrayList<>();
        long offset = 0;
        boolean completed = false;
        int pages = 0;
        while (!completed) {
            JsonNode page = api().get("/api/v1/executions/" + execution + "/output?offset=" + offset + "&max=2").json();
            assertThat(page.path("offset").asLong()).isEqualTo(offset);
            page.path("entries").forEach(lines::add);
            offset = page.path("nextOffset").asLong();
            completed = page.path("completed").asBoolean();
            assertThat(++pages).as("pages").isLessThan(20);
        }
        assertThat(pages).isGreaterThan(1);
        assertThat(printed(lines, "stdout")).containsExactly("hello world", "line one");
        assertThat(printed(lines, "stderr")).containsExactly("line two");
        JsonNode stderr = lines.stream().filter(l -> l.path("log").asText().equals("line two")).findFirst().orElseThrow();
        assertThat(stderr.path("stream").asText()).isEqualTo("stderr");
        assertThat(stderr.path("step").asText()).isEqualTo("2");
        assertThat(stderr.path("node").asText()).isEqualTo("member-api");
        assertThat(stderr.path("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");

        JsonNode end = api().get("/api/v1/executions/" + execution + "/output?offset=" + offset).json();
        assertThat(end.path("entries")).isEmpty();
        assertThat(end.path("completed").asBoolean()).isTrue();
        Api.Reply notALine = api().get("/api/v1/executions/" + execution + "/output?offset=3");
        assertThat(notALine.status()).isEqualTo(400);
        assertThat(notALine.json().path("error").asText()).contains("not the start of a line");
        assertThat(api().get("/api/v1/executions/" + execution + "/output?offset=-1").status()).isEqualTo(400);
        assertThat(api().get("/api/v1/executions/not-an-id/output").status()).isEqualTo(404);
    }

    @Test
    void abortStopsARunningExecution() {
        api().post("/api/v1/projects", Map.of("name", "delta"));
        String id = api().postYaml("/api/v1/projects/delta/jobs/import", """
                - name: sleeper
                  sequence:
                    commands:
                      - exec: echo started; sleep 60
                """).json().path("jobs").get(0).path("id").asText();
        String execution = api().post("/api/v1/jobs/" + id + "/run", Map.of()).json().path("id").asText();
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() ->
                api().get("/api/v1/executions/" + execution + "/output").json().findValuesAsText("log").contains("started"));

        Api.Reply abort = api().post("/api/v1/executions/" + execution + "/abort", Map.of());
        assertThat(abort.status()).isEqualTo(200);
        assertThat(abort.json().path("abort").asText()).isEqualTo("aborted");
        JsonNode ended = api().get("/api/v1/executions/" + execution).json();
        assertThat(ended.path("status").asText()).isEqualTo("aborted");
        assertThat(ended.path("reason").asText()).isEqualTo("aborted by admin");

        Api.Reply twice = api().post("/api/v1/executions/" + execution + "/abort", Map.of());
        assertThat(twice.status()).isEqualTo(409);
        assertThat(twice.json().path("error").asText()).contains("already ended: aborted");
    }

    @Test
    void tokensAreIssuedForAPasswordListedFetchedAndRevoked() {
        Api anonymous = api().withToken(null);
        Api.Reply wrong = anonymous.post("/api/v1/tokens", Map.of("user", "admin", "password", "guess"));
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.json().path("error").asText()).isEqualTo("wrong user name or password");
        assertThat(anonymous.post("/api/v1/tokens", Map.of("user", "nobody", "password", "guess")).json().path("error").asText())
                .as("no hint whether the user exists").isEqualTo("wrong user name or password");
        assertThat(anonymous.post("/api/v1/tokens", Map.of("user", "admin")).status()).isEqualTo(401);

        Api.Reply issued = anonymous.post("/api/v1/tokens", Map.of("user", "admin", "password", RuntimeFixture.ADMIN_PASSWORD,
                "expiresIn", "1h", "description", "ci"));
        assertThat(issued.status()).as(issued.body()).isEqualTo(201);
        String token = issued.json().path("token").asText();
        String tokenId = issued.json().path("id").asText();
        assertThat(token).startsWith("tdm_");
        assertThat(issued.json().path("roles").get(0).asText()).isEqualTo("admin");

        Api fresh = api().withToken(token);
        assertThat(fresh.get("/api/v1/projects").status()).isEqualTo(200);
        JsonNode info = fresh.get("/api/v1/tokens/" + tokenId).json();
        assertThat(info.path("description").asText()).isEqualTo("ci");
        assertThat(info.has("token")).as("a token is shown once, at creation").isFalse();
        assertThat(info.toString()).doesNotContain(token);
        assertThat(fresh.get("/api/v1/tokens").json().findValuesAsText("id")).contains(tokenId);

        Api.Reply second = fresh.post("/api/v1/tokens", Map.of("expiresIn", "10m"));
        assertThat(second.status()).as("a token holder may mint another for itself").isEqualTo(201);
        assertThat(fresh.post("/api/v1/tokens", Map.of("expiresIn", "soon")).status()).isEqualTo(400);
        assertThat(fresh.post("/api/v1/tokens", Map.of("roles", List.of("superuser"))).status()).isEqualTo(403);

        assertThat(fresh.delete("/api/v1/tokens/" + tokenId).status()).isEqualTo(204);
        assertThat(fresh.get("/api/v1/projects").status()).as("a revoked token stops working at once").isEqualTo(401);
        assertThat(api().get("/api/v1/tokens/" + tokenId).status()).isEqualTo(404);
        assertThat(api().delete("/api/v1/tokens/" + tokenId).status()).isEqualTo(404);
    }

    @Test
    void anExpiredTokenIsRefused() throws Exception {
        String token = api().post("/api/v1/tokens", Map.of("expiresIn", "1s")).json().path("token").asText();
        assertThat(api().withToken(token).get("/api/v1/projects").status()).isEqualTo(200);
        await().atMost(Machine.deadline(Duration.ofSeconds(10)))
                .until(() -> api().withToken(token).get("/api/v1/projects").status() == 401);
    }

    @Test
    void responsesCarryTheRouteCookieAndReadinessIsPublic() {
        Api.Reply reply = api().get("/api/v1/projects");
        assertThat(reply.header("Set-Cookie")).startsWith("TANDEM_ROUTE=member-api;").contains("HttpOnly");
        Api.Reply ready = api().withToken(null).get("/health/ready");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().path("member").asText()).isEqualTo("member-api");
        assertThat(api().withToken(null).get("/health/ready/active").json().path("site").asText()).isEqualTo("active");
    }

    @Test
    void theRuntimeHostIsANodeThatFiltersSelect() {
        api().post("/api/v1/projects", Map.of("name", "nodes"));
        JsonNode all = api().get("/api/v1/projects/nodes/nodes").json();
        assertThat(all.path("nodes").findValuesAsText("name")).containsExactly("member-api");
        assertThat(api().get("/api/v1/projects/nodes/nodes?filter=osFamily:%20unix%20name:%20member-.*").json().path("nodes")).hasSize(1);
        assertThat(api().get("/api/v1/projects/nodes/nodes?filter=!name:%20member-api").json().path("nodes")).isEmpty();
        Api.Reply bad = api().get("/api/v1/projects/nodes/nodes?filter=tags:%20'web");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().path("where").asText()).isEqualTo("filter, position 6");
    }

    @Test
    void aResourceModelFileAddsNodesThatFiltersSelect() throws Exception {
        java.nio.file.Path file = Machine.tempDir("fleet").resolve("fleet.yaml");
        java.nio.file.Files.writeString(file, "web-1:\n  hostname: 10.0.0.1\n  tags: web,prod\nweb-2:\n  hostname: 10.0.0.2\n  tags: web\n");
        api().post("/api/v1/projects", Map.of("name", "fleet", "config",
                Map.of("nodeSources", List.of(Map.of("type", "file", "path", file.toString())))));
        JsonNode selected = api().get("/api/v1/projects/fleet/nodes?filter=tags:%20web%2Bprod").json();
        assertThat(selected.path("nodes").findValuesAsText("name")).containsExactly("web-1");
        assertThat(selected.path("sources").get(0).path("healthy").asBoolean()).isTrue();
        Api.Reply refused = api().put("/api/v1/projects/fleet/config", Map.of("nodeSources", List.of(Map.of("type", "ldap"))));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.json().path("where").asText()).isEqualTo("nodeSources[0].type");
    }

    @Test
    void unknownPathsAndMissingExecutionsAnswerJson404() {
        Api.Reply missing = api().get("/api/v1/executions/01a215f3-1451-7b30-af3c-c0239db0a170");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().path("error").asText()).contains("not found");
        assertThat(api().get("/api/v1/no-such-thing").status()).isEqualTo(404);
    }

    static List<String> printed(List<JsonNode> lines, String stream) {
        return lines.stream().filter(l -> l.path("stream").asText().equals(stream)).map(l -> l.path("log").asText()).toList();
    }

    JsonNode awaitEnd(String execution) {
        await().atMost(Machine.deadline(Duration.ofSeconds(20))).pollInterval(Duration.ofMillis(50))
                .until(() -> !api().get("/api/v1/executions/" + execution).json().path("status").asText().equals("running"));
        return api().get("/api/v1/executions/" + execution).json();
    }

    /** Requests Jetty itself refuses (bad encoding, ambiguous paths, unknown paths) answer JSON like every API error, never an HTML page. */
    @Test
    void malformedAndUnknownPathsAnswerJsonErrors() throws Exception {
        for (String path : List.of("/api/v1/jobs/%zz", "/api/v1/jobs/%2e%2e/%2e%2e/admin", "/api/v1/nothing-here", "/", "/api/v1/jobs/a%00b")) {
            String response = raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\nConnection: close\r\n\r\n");
            String head = response.substring(0, response.indexOf("\r\n\r\n")).toLowerCase(java.util.Locale.ROOT);
            String body = response.substring(response.indexOf("\r\n\r\n") + 4);
            assertThat(head).as(path + ": " + response).contains("content-type: application/json").doesNotContain("text/html");
            assertThat(body).as(path).contains("\"status\":").contains("\"error\":").doesNotContain("<html");
        }
    }

    private static String raw(String request) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", APP.getLocalPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
