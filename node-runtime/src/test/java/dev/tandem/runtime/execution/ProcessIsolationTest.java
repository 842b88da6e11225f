package dev.tandem.runtime.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What a step can and cannot do to the runtime: its environment, background processes, huge output. */
@ExtendWith(DropwizardExtensionsSupport.class)
class ProcessIsolationTest {
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime("isolation");
    static Api api;

    @BeforeAll
    static void project() {
        api = RuntimeFixture.api(APP);
        api.post("/api/v1/projects", Map.of("name", "iso"));
    }

    static String run(String yaml) {
        return Runs.start(api, Runs.importJob(api, "iso", yaml), Map.of());
    }

    static JsonNode finished(String execution) {
        return Runs.finished(api, execution);
    }

    static List<JsonNode> lines(String execution) {
        return Runs.entries(api, execution);
    }

    @Test
    void stepsSeeTheirOwnVariablesButNotTheRuntimesEnvironment() {
        String execution = run("""
                - name: env
                  options:
                    - name: colour
                      value: blue
                  sequence:
                    commands:
                      - exec: env | sort
                """);
        assertThat(finished(execution).path("status").asText()).isEqualTo("succeeded");
        List<String> names = lines(execution).stream().filter(l -> l.path("stream").asText().equals("stdout"))
                .map(l -> l.path("log").asText().split("=", 2)[0]).toList();
        assertThat(names).contains("PATH", "RD_OPTION_COLOUR", "RD_JOB_NAME", "RD_JOB_EXECID", "RD_JOB_PROJECT");
        assertThat(names.stream().filter(n -> !n.startsWith("RD_")).toList()).as("only an allow-list is inherited")
                .allSatisfy(n -> assertThat(n).isIn(List.of("PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME",
                        "SHELL", "TMPDIR", "PWD", "SHLVL", "_", "OLDPWD")));
    }

    @Test
    void aBackgroundProcessDoesNotHangTheStepAndAnAbortKillsItsWholeSession() throws Exception {
        String quick = run("""
                - name: daemonise
                  sequence:
                    commands:
                      - exec: (sleep 300 &) ; echo parent done
                """);
        JsonNode done = finished(quick);
        assertThat(done.path("status").asText()).as("the step ends when its process does").isEqualTo("succeeded");
        assertThat(done.path("durationMillis").asLong()).isLessThan(30_000);
        assertThat(lines(quick).stream().map(l -> l.path("log").asText()).toList()).contains("parent done");

        Path pidFile = Machine.tempDir("orphan").resolve("pid");
        String slow = run("""
                - name: orphan-then-wait
                  sequence:
                    commands:
                      - exec: sh -c 'sleep 300 > /dev/null 2>&1 & echo $! > %s' ; sleep 300
                """.formatted(pidFile));
        await().atMost(Machine.deadline(Duration.ofSeconds(10))).until(() -> Files.exists(pidFile) && !Files.readString(pidFile).isBlank());
        long orphan = Long.parseLong(Files.readString(pidFile).trim());
        api.post("/api/v1/executions/" + slow + "/abort", Map.of());
        assertThat(finished(slow).path("status").asText()).isEqualTo("aborted");
        await().atMost(Machine.deadline(Duration.ofSeconds(15)))
                .until(() -> ProcessHandle.of(orphan).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void anEndlessLineIsSplitIntoBoundedEntries() {
        String execution = run("""
                - name: long-line
                  sequence:
                    commands:
                      - exec: yes x | head -n 300000 | tr -d '\\n' ; echo ; echo after
                """);
        assertThat(finished(execution).path("status").asText()).isEqualTo("succeeded");
        List<String> out = lines(execution).stream().filter(l -> l.path("stream").asText().equals("stdout"))
                .map(l -> l.path("log").asText()).toList();
        assertThat(out).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(LocalProcessRunner.MAX_LINE_CHARS));
        assertThat(String.join("", out.subList(0, out.size() - 1))).hasSize(300000).matches("x+");
        assertThat(out.get(out.size() - 1)).isEqualTo("after");
    }
}
