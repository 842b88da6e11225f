package dev.tandem.runtime.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The admin port: health checks that touch the database and log folder, and metrics in Prometheus text. */
@ExtendWith(DropwizardExtensionsSupport.class)
class AdminEndpointsTest {
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime("admin");

    Api admin() {
        return new Api("http://127.0.0.1:" + APP.getAdminPort(), null);
    }

    @Test
    void healthChecksReportTheDatabaseAndTheLogFolder() throws Exception {
        Api.Reply health = admin().get("/healthcheck");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.json().path("database").path("message").asText()).isEqualTo("database reachable; site 'a' is active at epoch 1");
        assertThat(health.json().path("logStorage").path("healthy").asBoolean()).isTrue();

        Path logs = Path.of(APP.getConfiguration().logs.dir);
        Path moved = logs.resolveSibling("logs-moved");
        Files.move(logs, moved);
        Files.writeString(logs, "not a folder");
        try {
            Api.Reply broken = admin().get("/healthcheck");
            assertThat(broken.status()).isEqualTo(500);
            assertThat(broken.json().path("logStorage").path("healthy").asBoolean()).isFalse();
            assertThat(broken.json().path("logStorage").path("message").asText()).contains("is not writable");
        } finally {
            Files.delete(logs);
            Files.move(moved, logs);
        }
        assertThat(admin().get("/healthcheck").status()).isEqualTo(200);
    }

    @Test
    void executionAndPoolMetricsAreExposedAsPrometheusText() {
        Api api = RuntimeFixture.api(APP);
        api.post("/api/v1/projects", Map.of("name", "m"));
        String id = api.postYaml("/api/v1/projects/m/jobs/import", "- name: ok\n  sequence: {commands: [{exec: 'true'}]}\n- name: bad\n  sequence: {commands: [{exec: 'false'}]}\n")
                .json().path("jobs").get(0).path("id").asText();
        String bad = api.get("/api/v1/projects/m/jobs").json().get(0).path("id").asText();
        api.post("/api/v1/jobs/" + id + "/run", Map.of());
        api.post("/api/v1/jobs/" + bad + "/run", Map.of());
        await().atMost(Machine.deadline(Duration.ofSeconds(20))).untilAsserted(() -> {
            String text = admin().get("/prometheus").body();
            assertThat(text).contains("tandem_executions_started_total 2.0");
            assertThat(text).contains("tandem_executions_succeeded_total 1.0");
            assertThat(text).contains("tandem_executions_failed_total 1.0");
            assertThat(text).contains("tandem_executions_duration_count 2");
            assertThat(text).contains("tandem_pool_ActiveConnections");
        });
    }

    @Test
    void theAdminPortListensOnLoopbackInTheShippedConfiguration() throws Exception {
        String shipped = Files.readString(Path.of("..", "configs", "node-runtime.yml"));
        String admin = shipped.substring(shipped.indexOf("adminConnectors:"));
        assertThat(admin.lines().filter(l -> l.contains("bindHost")).findFirst().orElseThrow().trim()).isEqualTo("bindHost: 127.0.0.1");
    }

    @Test
    void adminTasksNeedAnAdminsTokenEvenOnLoopbackWhileHealthStaysOpen() {
        Api api = RuntimeFixture.api(APP);
        api.post("/api/v1/users", Map.of("name", "reader", "password", "a long enough password"));
        String readerToken = api.withToken(null).post("/api/v1/tokens", Map.of("user", "reader", "password", "a long enough password"))
                .json().path("token").asText();
        for (String token : java.util.Arrays.asList(null, "tdm_not-a-token", readerToken)) {
            Api.Reply refused = new Api("http://127.0.0.1:" + APP.getAdminPort(), token).postBytes("/tasks/rotate-keys", "text/plain", new byte[0]);
            assertThat(refused.status()).as(String.valueOf(token)).isEqualTo(401);
            assertThat(refused.json().path("error").asText())
                    .isEqualTo("an admin task needs an API token with the role 'admin' (Authorization: Bearer <token>)");
        }
        Api.Reply allowed = new Api("http://127.0.0.1:" + APP.getAdminPort(), RuntimeFixture.ADMIN_TOKEN)
                .postBytes("/tasks/rotate-keys", "text/plain", new byte[0]);
        assertThat(allowed.body()).doesNotContain("an admin task needs");
        assertThat(allowed.status()).as(allowed.body()).isNotEqualTo(401);
        assertThat(admin().get("/healthcheck").status()).as("monitoring needs no token").isEqualTo(200);
    }
}
