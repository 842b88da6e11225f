package dev.tandem.runtime.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.db.EmbeddedPostgresServer;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A dead database: calls answer 503 saying so, health turns red, and all recovers when it is back. */
class DatabaseOutageTest {

    @Test
    void theApiSaysTheDatabaseIsUnavailableAndRecoversWhenItReturns() throws Exception {
        Path dir = Machine.tempDir("outage-pg");
        EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir, 0, false);
        int port = pg.port();
        DropwizardAppExtension<TandemConfiguration> app = RuntimeFixture.runtime(pg.jdbcUrl("postgres"), "member-outage",
                ConfigOverride.config("database.connectionTimeout", "1s"));
        app.before();
        try {
            Api api = RuntimeFixture.api(app);
            Api admin = new Api("http://127.0.0.1:" + app.getAdminPort(), null);
            assertThat(api.post("/api/v1/projects", Map.of("name", "before")).status()).isEqualTo(201);

            pg.close();
            Api.Reply down = api.get("/api/v1/projects");
            assertThat(down.status()).as(down.body()).isEqualTo(503);
            assertThat(down.json().path("error").asText()).isEqualTo("the database is unavailable; retry later");
            Api.Reply write = api.post("/api/v1/projects", Map.of("name", "during"));
            assertThat(write.status()).as(write.body()).isEqualTo(503);
            assertThat(admin.get("/healthcheck").json().path("database").path("healthy").asBoolean()).isFalse();

            pg = EmbeddedPostgresServer.start(dir, port, false);
            await().atMost(Machine.deadline(Duration.ofSeconds(30)))
                    .until(() -> api.get("/api/v1/projects").status() == 200);
            assertThat(api.get("/api/v1/projects").json().findValuesAsText("name")).containsExactly("before");
            assertThat(admin.get("/healthcheck").status()).isEqualTo(200);
        } finally {
            app.after();
            pg.close();
        }
    }
}
