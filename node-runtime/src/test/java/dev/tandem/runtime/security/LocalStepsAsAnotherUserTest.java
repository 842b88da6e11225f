package dev.tandem.runtime.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * With {@code execution.localUser}, steps on the Tandem host run as that user: they cannot read
 * the runtime's files (a token file, its configuration), its environment through /proc, or a
 * host file through a scriptfile step; they still run, write scripts and are aborted as usual.
 * Needs root (or the capabilities the docs name) and setpriv: elsewhere the class is skipped.
 */
@EnabledIf("canSwitchUsers")
@ExtendWith(DropwizardExtensionsSupport.class)
class LocalStepsAsAnotherUserTest {
    static final String SECRET = "tdm_runtime-only-secret-9a7c";
    static final Path BASE = enterableFolder();
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtimeIn(BASE,
            dev.tandem.kernel.testing.TestPostgres.newDatabase("as-nobody"), "member-as-nobody",
            ConfigOverride.config("execution.localUser", "nobody"));
    static Api api;
    static Path secretFile;

    static boolean canSwitchUsers() {
        return "root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/bin/setpriv"));
    }

    /** A folder every user may pass through (as /var/lib/tandem must be for the step user to reach its work folder). */
    static Path enterableFolder() {
        try {
            Path dir = Machine.tempDir("tandem-local-user");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @BeforeAll
    static void project() throws IOException {
        api = RuntimeFixture.api(APP);
        api.post("/api/v1/projects", Map.of("name", "host"));
        secretFile = Files.writeString(BASE.resolve("admin-token"), SECRET + "\n");
        Files.setPosixFilePermissions(secretFile, PosixFilePermissions.fromString("rw-------"));
    }

    static JsonNode run(String name, String steps) {
        String job = Runs.importJob(api, "host", "- name: " + name + "\n  sequence:\n    keepgoing: true\n    commands:\n" + steps);
        return Runs.finished(api, Runs.start(api, job, Map.of()));
    }

    @Test
    void stepsRunAsTheUserAndCannotReadTheRuntimesFilesOrEnvironment() {
        JsonNode run = run("who", """
                      - exec: id -un
                      - script: echo "script as $(id -un)"
                      - exec: cat %s
                      - exec: cat /proc/%d/environ
                """.formatted(secretFile, ProcessHandle.current().pid()));
        String output = String.join("\n", Runs.lines(api, run.path("id").asText(), null));
        assertThat(Runs.lines(api, run.path("id").asText(), "stdout")).startsWith("nobody", "script as nobody");
        assertThat(output).contains(secretFile + ": Permission denied").contains("environ: Permission denied").doesNotContain(SECRET);
        assertThat(run.path("status").asText()).isEqualTo("failed");
    }

    @Test
    void aScriptfileIsReadWithTheStepUsersRightsNotTheRuntimes() {
        JsonNode run = run("scriptfile", "      - scriptfile: " + secretFile + "\n");
        assertThat(run.path("status").asText()).isEqualTo("failed");
        String output = String.join("\n", Runs.lines(api, run.path("id").asText(), null));
        assertThat(output).contains("cannot read the script file " + secretFile + ": user 'nobody' cannot read " + secretFile)
                .doesNotContain(SECRET);
    }

    @Test
    void aStepOfAnotherUserIsStillAborted() {
        String job = Runs.importJob(api, "host", "- name: long\n  sequence: {commands: [{exec: 'sleep 60'}]}\n");
        String execution = Runs.start(api, job, Map.of());
        org.awaitility.Awaitility.await().atMost(Machine.deadline(Duration.ofSeconds(10)))
                .until(() -> api.get("/api/v1/executions/" + execution).json().path("status").asText().equals("running"));
        long started = System.nanoTime();
        api.post("/api/v1/executions/" + execution + "/abort", Map.of());
        assertThat(Runs.finished(api, execution).path("status").asText()).isEqualTo("aborted");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Machine.deadline(Duration.ofSeconds(15)));
    }
}
