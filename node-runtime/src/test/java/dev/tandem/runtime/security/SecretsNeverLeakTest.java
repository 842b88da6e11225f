package dev.tandem.runtime.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * Invariant 8: secure option values and key values never appear in output, responses or logs.
 * A job echoes them every way it can; then every response body, every log line of the runtime,
 * the stored logs and the database rows are scanned. (.ci/run also scans the whole test run's
 * reports for these two values.)
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class SecretsNeverLeakTest {
    static final String OPTION_SECRET = "opt-Secret-4f9c2a7e";
    static final String KEY_SECRET = "key-Secret-8d1b6e3f";
    static final String MASTER = Base64.getEncoder().encodeToString("abcdefghijklmnopqrstuvwxyz012345".getBytes(StandardCharsets.UTF_8));
    static final String DB = TestPostgres.newDatabase("secrets");
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime(DB, "member-secrets",
            ConfigOverride.config("keys.masterKeys[0].id", "k1"), ConfigOverride.config("keys.masterKeys[0].key", MASTER));
    static final List<String> RESPONSES = Collections.synchronizedList(new ArrayList<>());
    static final List<String> LOG_LINES = Collections.synchronizedList(new ArrayList<>());
    static final AppenderBase<ILoggingEvent> CAPTURE = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            LOG_LINES.add(event.getFormattedMessage() + (event.getThrowableProxy() == null ? "" : " " + event.getThrowableProxy().getMessage()));
        }
    };
    static Api api;

    @BeforeAll
    static void captureEverything() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        context.getLogger("dev.tandem").setLevel(Level.DEBUG);
        context.getLogger("org.jdbi").setLevel(Level.DEBUG);
        CAPTURE.setContext(context);
        CAPTURE.start();
        root.addAppender(CAPTURE);
        api = RuntimeFixture.api(APP).recordingInto(RESPONSES);
    }

    @AfterAll
    static void release() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(CAPTURE);
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(Level.WARN);
    }

    @Test
    void secureOptionAndKeyValuesShowOnlyAsAMaskAnywhere() throws Exception {
        api.post("/api/v1/projects", Map.of("name", "sec"));
        assertThat(api.postBytes("/api/v1/storage/keys/project/sec/api-token", "application/x-rundeck-data-password",
                KEY_SECRET.getBytes(StandardCharsets.UTF_8)).status()).isEqualTo(201);
        String job = api.postYaml("/api/v1/projects/sec/jobs/import", """
                - name: leaky
                  loglevel: DEBUG
                  options:
                    - name: pass
                      secure: true
                      valueExposed: true
                      regex: 'opt-.*'
                    - name: token
                      secure: true
                      valueExposed: true
                      storagePath: keys/project/sec/api-token
                    - name: login
                      secure: true
                      storagePath: keys/project/sec/api-token
                  sequence:
                    keepgoing: true
                    commands:
                      - exec: echo "pass=${option.pass} token=${option.token} login=${option.login}" env=$RD_OPTION_PASS/$RD_OPTION_TOKEN
                      - script: |
                          echo "script @option.pass@ and @option.token@"
                          echo "to stderr ${option.token}" >&2
                        args: ${option.pass}
                      - jobref:
                          name: child
                          args: -secret ${option.pass}
                      - exec: echo "${option.pass}" | rev
                - name: child
                  options:
                    - name: secret
                      secure: true
                      valueExposed: true
                  sequence:
                    commands:
                      - exec: echo "child got ${option.secret}"
                """).json().path("jobs").get(0).path("id").asText();

        Api.Reply refused = api.post("/api/v1/jobs/" + job + "/run", Map.of("options", Map.of("pass", "not-matching-" + OPTION_SECRET)));
        assertThat(refused.status()).isEqualTo(422);

        Api.Reply run = api.post("/api/v1/jobs/" + job + "/run", Map.of("options", Map.of("pass", OPTION_SECRET)));
        assertThat(run.status()).as(run.body()).isEqualTo(201);
        String execution = run.json().path("id").asText();
        assertThat(run.json().path("options").path("pass").asText()).isEqualTo("*****");
        await().atMost(Machine.deadline(Duration.ofSeconds(20)))
                .until(() -> !api.get("/api/v1/executions/" + execution).json().path("status").asText().equals("running"));
        List<String> output = new ArrayList<>();
        api.get("/api/v1/executions/" + execution + "/output").json().path("entries").forEach(e -> output.add(e.path("log").asText()));
        assertThat(output).contains("pass=***** token=***** login= env=*****/*****", "script ***** and *****",
                "to stderr *****", "child got *****");
        api.get("/api/v1/executions/" + execution);
        api.get("/api/v1/projects/sec/executions");
        api.get("/api/v1/storage/keys/project/sec");

        assertThat(RESPONSES).isNotEmpty().noneMatch(r -> r.contains(OPTION_SECRET) || r.contains(KEY_SECRET));
        assertThat(LOG_LINES).isNotEmpty().noneMatch(l -> l.contains(OPTION_SECRET) || l.contains(KEY_SECRET));
        try (Stream<Path> files = Files.walk(Path.of(APP.getConfiguration().logs.dir))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                String text = Files.readString(file);
                assertThat(text).as(file.toString()).doesNotContain(OPTION_SECRET).doesNotContain(KEY_SECRET);
            }
        }
        try (Connection c = TestPostgres.connect(DB);
             ResultSet rs = c.createStatement().executeQuery("SELECT options::text || coalesce(reason, '') FROM tandem.executions")) {
            while (rs.next()) {
                assertThat(rs.getString(1)).doesNotContain(OPTION_SECRET).doesNotContain(KEY_SECRET);
            }
        }
    }

    @Test
    void aSecureInlineDefaultIsMaskedWhereverTheJobIsShownAndNoErrorQuotesASecureValue() throws Exception {
        List<String> responses = new ArrayList<>();
        Api recorded = RuntimeFixture.api(APP).recordingInto(responses);
        recorded.post("/api/v1/projects", Map.of("name", "defaults"));
        String yaml = """
                - name: with-default
                  options:
                    - name: pw
                      secure: true
                      valueExposed: true
                      value: %s
                  sequence:
                    commands:
                      - exec: printf %%s "${option.pw}" | sha256sum
                - name: retrying
                  retry: '${option.pw}'
                  options:
                    - name: pw
                      secure: true
                      valueExposed: true
                  sequence:
                    commands:
                      - exec: 'true'
                """.formatted(OPTION_SECRET);
        Api.Reply imported = recorded.postYaml("/api/v1/projects/defaults/jobs/import", yaml);
        assertThat(imported.status()).as(imported.body()).isEqualTo(200);
        String job = imported.json().path("jobs").get(0).path("id").asText();
        String retrying = imported.json().path("jobs").get(1).path("id").asText();

        String exported = recorded.get("/api/v1/projects/defaults/jobs/export").body();
        assertThat(exported).contains("value: '*****'");
        assertThat(recorded.get("/api/v1/jobs/" + job + "?format=yaml").body()).contains("value: '*****'");
        assertThat(recorded.get("/api/v1/jobs/" + job).json().path("definition").path("options").get(0).path("value").asText()).isEqualTo("*****");

        assertThat(recorded.postYaml("/api/v1/projects/defaults/jobs/import", exported).status()).as("the export imports back").isEqualTo(200);
        JsonNode run = Runs.finished(recorded, Runs.start(recorded, job, Map.of()));
        assertThat(run.path("status").asText()).as("re-importing the mask kept the stored default").isEqualTo("succeeded");
        assertThat(Runs.lines(recorded, run.path("id").asText(), null)).contains(sha256(OPTION_SECRET) + "  -");

        Api.Reply refused = recorded.post("/api/v1/jobs/" + retrying + "/run", Map.of("options", Map.of("pw", OPTION_SECRET)));
        assertThat(refused.status()).isEqualTo(422);
        assertThat(refused.json().path("error").asText()).isEqualTo("retry '${option.pw}' expands to '*****', not a number of attempts");
        assertThat(responses).isNotEmpty().noneMatch(r -> r.contains(OPTION_SECRET));
    }

    static String sha256(String text) throws java.security.NoSuchAlgorithmException {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
