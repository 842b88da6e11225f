package dev.tandem.runtime.site;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The site-state gate: when the row says passive or fenced, every write is refused with 503 and
 * the active site's URL, in the database transaction itself; reads keep working.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class PassiveSiteTest {
    static final String DB = TestPostgres.newDatabase("passive");
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime(DB, "member-passive");
    static final String ACTIVE_URL = "https://site-b.example.test";
    static Api api;
    static String jobId;

    @BeforeAll
    static void seed() {
        api = RuntimeFixture.api(APP);
        api.post("/api/v1/projects", Map.of("name", "kept"));
        jobId = api.postYaml("/api/v1/projects/kept/jobs/import", """
                - name: job
                  sequence: {commands: [{exec: echo hi}]}
                """).json().path("jobs").get(0).path("id").asText();
    }

    @AfterEach
    void backToActive() throws SQLException {
        setRole("active", null);
    }

    static void setRole(String role, String activeUrl) throws SQLException {
        try (Connection c = TestPostgres.connect(DB);
             PreparedStatement s = c.prepareStatement("UPDATE tandem_local.site_state SET role = ?, active_site_url = ?")) {
            s.setString(1, role);
            s.setString(2, activeUrl);
            s.executeUpdate();
        }
    }

    static long count(String table) throws SQLException {
        try (Connection c = TestPostgres.connect(DB);
             ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void anExecutionsLogIsReadableOnAPassiveSite() throws SQLException {
        String execution = dev.tandem.runtime.testing.Runs.start(api, jobId, Map.of());
        dev.tandem.runtime.testing.Runs.finished(api, execution);
        org.awaitility.Awaitility.await().atMost(Machine.deadline(java.time.Duration.ofSeconds(10)))
                .until(() -> api.get("/api/v1/executions/" + execution + "/output").json().path("completed").asBoolean());
        setRole("passive", ACTIVE_URL);
        Api.Reply output = api.get("/api/v1/executions/" + execution + "/output?wait=1");
        assertThat(output.status()).as(output.body()).isEqualTo(200);
        assertThat(output.json().path("completed").asBoolean()).isTrue();
        assertThat(output.json().path("entries").toString()).contains("\"log\":\"hi\"");
        assertThat(api.get("/api/v1/executions/" + execution + "/output/export?format=text").body()).contains("stdout: hi");
        assertThat(api.get("/api/v1/executions/" + execution + "/output/follow").body()).contains("event: end");
    }

    @ParameterizedTest
    @ValueSource(strings = {"passive", "fenced"})
    void writesAreRefusedWith503AndTheActiveSiteWhileReadsWork(String role) throws SQLException {
        setRole(role, ACTIVE_URL);
        long executions = count("tandem.executions");
        long tokens = count("tandem.api_tokens");

        List<Api.Reply> writes = List.of(
                api.post("/api/v1/projects", Map.of("name", "new")),
                api.put("/api/v1/projects/kept/config", Map.of("x", 1)),
                api.postYaml("/api/v1/projects/kept/jobs/import", "- name: other\n  sequence: {commands: [{exec: echo}]}\n"),
                api.post("/api/v1/jobs/" + jobId + "/run", Map.of()),
                api.delete("/api/v1/jobs/" + jobId),
                api.delete("/api/v1/projects/kept"),
                api.withToken(null).post("/api/v1/tokens", Map.of("user", "admin", "password", RuntimeFixture.ADMIN_PASSWORD)));
        for (Api.Reply reply : writes) {
            assertThat(reply.status()).as(reply.body()).isEqualTo(503);
            assertThat(reply.json().path("activeSite").asText()).isEqualTo(ACTIVE_URL);
            assertThat(reply.header("X-Tandem-Active-Site")).isEqualTo(ACTIVE_URL);
            assertThat(reply.json().path("error").asText()).contains("site 'a' is " + role);
        }
        assertThat(count("tandem.executions")).as("no execution started").isEqualTo(executions);
        assertThat(count("tandem.api_tokens")).isEqualTo(tokens);

        assertThat(api.get("/api/v1/projects").json().findValuesAsText("name")).containsExactly("kept");
        assertThat(api.get("/api/v1/projects/kept/config").status()).isEqualTo(200);
        assertThat(api.get("/api/v1/projects/kept/jobs").json()).hasSize(1);
        assertThat(api.get("/api/v1/jobs/" + jobId).status()).isEqualTo(200);
        assertThat(api.get("/api/v1/projects/kept/jobs/export").status()).isEqualTo(200);
        assertThat(api.get("/api/v1/projects/kept/executions").status()).isEqualTo(200);
    }

    @Test
    void writesResumeWhenTheSiteIsActiveAgain() throws SQLException {
        setRole("passive", ACTIVE_URL);
        assertThat(api.post("/api/v1/projects", Map.of("name", "later")).status()).isEqualTo(503);
        setRole("active", null);
        assertThat(api.post("/api/v1/projects", Map.of("name", "later")).status()).isEqualTo(201);
        assertThat(api.delete("/api/v1/projects/later").status()).isEqualTo(204);
    }

    @Test
    void aFenceStopsWhatRunsOnTheMemberAndTheRunIsRecordedIncompleteOnceWritesReturn() throws Exception {
        String job = api.postYaml("/api/v1/projects/kept/jobs/import", """
                - name: long
                  sequence: {commands: [{exec: 'sleep 987'}]}
                """).json().path("jobs").get(0).path("id").asText();
        String execution = dev.tandem.runtime.testing.Runs.start(api, job, Map.of());
        java.util.function.BooleanSupplier sleeping = () -> ProcessHandle.allProcesses()
                .anyMatch(p -> p.info().commandLine().orElse("").contains("sleep 987"));
        org.awaitility.Awaitility.await().atMost(Machine.deadline(java.time.Duration.ofSeconds(10))).until(sleeping::getAsBoolean);
        setRole("fenced", ACTIVE_URL);
        org.awaitility.Awaitility.await().atMost(Machine.deadline(java.time.Duration.ofSeconds(10))).until(() -> !sleeping.getAsBoolean());
        assertThat(api.get("/api/v1/executions/" + execution).json().path("status").asText())
                .as("the end cannot be recorded while fenced").isEqualTo("running");
        setRole("active", null);
        org.awaitility.Awaitility.await().atMost(Machine.deadline(java.time.Duration.ofSeconds(10)))
                .until(() -> api.get("/api/v1/executions/" + execution).json().path("status").asText().equals("incomplete"));
        assertThat(api.get("/api/v1/executions/" + execution).json().path("reason").asText()).contains("is fenced");
        assertThat(api.delete("/api/v1/jobs/" + job).status()).isEqualTo(204);
    }

    @Test
    void theEpochNeverGoesBackwards() throws SQLException {
        try (Connection c = TestPostgres.connect(DB)) {
            c.createStatement().executeUpdate("UPDATE tandem_local.site_state SET epoch = epoch + 1");
            SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> c.createStatement().executeUpdate("UPDATE tandem_local.site_state SET epoch = epoch - 1"));
            assertThat(refused.getMessage()).contains("site epoch only grows");
        }
    }
}
