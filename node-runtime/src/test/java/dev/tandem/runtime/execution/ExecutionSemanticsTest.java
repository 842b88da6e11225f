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

/** Local execution of exec, script and scriptfile steps with Rundeck's result semantics. */
@ExtendWith(DropwizardExtensionsSupport.class)
class ExecutionSemanticsTest {
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime("semantics");
    static Api api;

    @BeforeAll
    static void project() {
        api = RuntimeFixture.api(APP);
        api.post("/api/v1/projects", Map.of("name", "sem"));
    }

    static String job(String yaml) {
        return Runs.importJob(api, "sem", yaml);
    }

    static String start(String jobId, Map<String, String> options) {
        return Runs.start(api, jobId, options);
    }

    static JsonNode finished(String execution) {
        return Runs.finished(api, execution);
    }

    static List<String> stdout(String execution) {
        return Runs.lines(api, execution, "stdout");
    }

    @Test
    void aFailingStepStopsTheWorkflowUnlessKeepgoing() {
        String stop = job("""
                - name: stop-at-failure
                  sequence:
                    keepgoing: false
                    commands:
                      - exec: echo one
                      - exec: exit 3
                      - exec: echo three
                """);
        String execution = start(stop, Map.of());
        JsonNode done = finished(execution);
        assertThat(done.path("status").asText()).isEqualTo("failed");
        assertThat(done.path("reason").asText()).isEqualTo("step 2 failed: exit code 3");
        assertThat(stdout(execution)).containsExactly("one");

        String go = job("""
                - name: keep-going
                  sequence:
                    keepgoing: true
                    commands:
                      - exec: echo one
                      - exec: exit 3
                      - exec: echo three
                """);
        String second = start(go, Map.of());
        assertThat(finished(second).path("status").asText()).as("keepgoing still reports the failure").isEqualTo("failed");
        assertThat(stdout(second)).containsExactly("one", "three");
    }

    @Test
    void aSuccessfulErrorHandlerRecoversTheStepOnlyWithKeepgoingOrKeepgoingOnSuccess() {
        String recovered = job("""
                - name: handled
                  sequence:
                    commands:
                      - exec: exit 1
                        errorhandler:
                          exec: echo handling
                          keepgoingOnSuccess: true
                      - exec: echo after
                """);
        String execution = start(recovered, Map.of());
        assertThat(finished(execution).path("status").asText()).isEqualTo("succeeded");
        assertThat(stdout(execution)).containsExactly("handling", "after");

        String notRecovered = job("""
                - name: handled-but-stopping
                  sequence:
                    commands:
                      - exec: exit 1
                        errorhandler:
                          exec: echo handling
                      - exec: echo after
                """);
        String second = start(notRecovered, Map.of());
        assertThat(finished(second).path("status").asText()).isEqualTo("failed");
        assertThat(stdout(second)).containsExactly("handling");

        String handlerFails = job("""
                - name: handler-fails
                  sequence:
                    keepgoing: true
                    commands:
                      - exec: exit 1
                        errorhandler:
                          exec: exit 2
                      - exec: echo after
                """);
        String third = start(handlerFails, Map.of());
        JsonNode done = finished(third);
        assertThat(done.path("status").asText()).isEqualTo("failed");
        assertThat(done.path("reason").asText()).contains("exit code 1").contains("its error handler failed too: exit code 2");
        assertThat(stdout(third)).containsExactly("after");
    }

    @Test
    void scriptsAndScriptFilesRunWithArgsInterpreterAndExpandedOptions() throws Exception {
        Path file = Machine.tempDir("scriptfile").resolve("check.sh");
        Files.writeString(file, "echo \"file got $1 and $2 as $RD_OPTION_ENV\"\n");
        String id = job("""
                - name: scripts
                  options:
                    - name: env
                      value: staging
                  sequence:
                    commands:
                      - script: |
                          echo "script @option.env@ ${option.env} $1"
                        args: -x
                      - script: |
                          import sys
                          print("python got", sys.argv[1:])
                        scriptInterpreter: python3
                        args: "'two words' ${option.env}"
                      - scriptfile: %s
                        args: alpha 'beta gamma'
                """.formatted(file));
        String execution = start(id, Map.of("env", "prod"));
        assertThat(finished(execution).path("status").asText()).isEqualTo("succeeded");
        assertThat(stdout(execution)).containsExactly(
                "script prod prod -x",
                "python got ['two words', 'prod']",
                "file got alpha and beta gamma as prod");
    }

    @Test
    void commandLinesMeanWhatTheShellMakesOfThemWhetherOrNotTheyNeedIt() throws Exception {
        Path noShebang = Machine.tempDir("exec-lines").resolve("no-shebang");
        Files.writeString(noShebang, "echo \"no shebang ran with $1\"\n");
        Files.setPosixFilePermissions(noShebang, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        String id = job("""
                - name: exec-lines
                  sequence:
                    keepgoing: true
                    commands:
                      - exec: /bin/echo plain   words
                      - exec: printenv RD_JOB_NAME
                      - exec: echo 'two  spaces'
                      - exec: A=1 printenv A
                      - exec: %s one
                      - exec: printenv PWD
                      - exec: echo "$PWD"
                      - exec: no-such-program-tandem
                """.formatted(noShebang));
        String execution = start(id, Map.of());
        JsonNode done = finished(execution);
        assertThat(done.path("reason").asText()).as("only the missing program fails, as the shell reports it").isEqualTo("step 8 failed: exit code 127");
        List<String> lines = stdout(execution);
        assertThat(lines).startsWith("plain words", "exec-lines", "two  spaces", "1", "no shebang ran with one").hasSize(7);
        assertThat(lines.get(5)).as("the work folder, with or without the shell").isNotBlank().isEqualTo(lines.get(6));
        assertThat(Runs.lines(api, execution, "stderr")).singleElement().asString().contains("no-such-program-tandem").contains("not found");
    }

    @Test
    void aProgramStartedWithoutTheShellKnowsItselfByTheNameTyped() {
        String id = job("""
                - name: argv-zero
                  sequence:
                    commands:
                      - exec: ls /nonexistent-tandem-dir
                """);
        String execution = start(id, Map.of());
        assertThat(finished(execution).path("status").asText()).isEqualTo("failed");
        assertThat(Runs.lines(api, execution, "stderr")).singleElement().asString()
                .as("its messages name it as the shell would have started it").startsWith("ls: ");
    }

    @Test
    void aTimeoutStopsAProgramStartedWithoutTheShell() {
        String id = job("""
                - name: slow-direct
                  timeout: 1s
                  sequence:
                    commands:
                      - exec: /bin/sleep 300
                """);
        JsonNode done = finished(start(id, Map.of()));
        assertThat(done.path("status").asText()).isEqualTo("timedout");
        assertThat(done.path("reason").asText()).isEqualTo("timed out after 1s");
    }

    @Test
    void aMissingScriptFileFailsWithItsPath() {
        String id = job("""
                - name: missing-file
                  sequence:
                    commands:
                      - scriptfile: /nonexistent/tandem/check.sh
                """);
        JsonNode done = finished(start(id, Map.of()));
        assertThat(done.path("status").asText()).isEqualTo("failed");
        assertThat(done.path("reason").asText()).contains("script file /nonexistent/tandem/check.sh does not exist");
    }

    @Test
    void aTimeoutKillsTheWholeProcessTree() throws Exception {
        Path pidFile = Machine.tempDir("timeout").resolve("child.pid");
        String id = job("""
                - name: slow
                  timeout: ${option.limit}
                  options:
                    - name: limit
                      value: '1'
                  sequence:
                    commands:
                      - exec: sh -c 'sleep 300 & echo $! > %s; wait'
                """.formatted(pidFile));
        String execution = start(id, Map.of("limit", "2s"));
        JsonNode done = finished(execution);
        assertThat(done.path("status").asText()).isEqualTo("timedout");
        assertThat(done.path("reason").asText()).isEqualTo("timed out after 2s");
        long child = Long.parseLong(Files.readString(pidFile).trim());
        await().atMost(Machine.deadline(Duration.ofSeconds(10)))
                .until(() -> ProcessHandle.of(child).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void optionRulesAreEnforcedNamingTheOptionAndTheRule() {
        String id = job("""
                - name: strict
                  options:
                    - name: version
                      required: true
                      regex: '\\d+\\.\\d+'
                    - name: env
                      values: [staging, prod]
                      enforced: true
                      value: staging
                  sequence:
                    commands:
                      - exec: echo ${option.version} ${option.env}
                """);
        Api.Reply missing = api.post("/api/v1/jobs/" + id + "/run", Map.of());
        assertThat(missing.status()).isEqualTo(422);
        assertThat(missing.json().path("error").asText()).isEqualTo("option 'version' is required");
        Api.Reply regex = api.post("/api/v1/jobs/" + id + "/run", Map.of("options", Map.of("version", "latest")));
        assertThat(regex.status()).isEqualTo(422);
        assertThat(regex.json().path("error").asText()).contains("option 'version' must match the regex");
        Api.Reply enforced = api.post("/api/v1/jobs/" + id + "/run", Map.of("options", Map.of("version", "1.2", "env", "qa")));
        assertThat(enforced.status()).isEqualTo(422);
        assertThat(enforced.json().path("where").asText()).isEqualTo("options.env");
        Api.Reply unknown = api.post("/api/v1/jobs/" + id + "/run", Map.of("options", Map.of("version", "1.2", "colour", "red")));
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.json().path("error").asText()).startsWith("the job has no option 'colour'");
        String ok = start(id, Map.of("version", "1.2"));
        assertThat(finished(ok).path("status").asText()).isEqualTo("succeeded");
        assertThat(stdout(ok)).containsExactly("1.2 staging");
    }

    @Test
    void multivaluedOptionsCheckEveryValueAgainstTheAllowedOnes() {
        String id = job("""
                - name: multi
                  options:
                    - name: hosts
                      multivalued: true
                      delimiter: ','
                      values: web1,web2,db1
                      enforced: true
                  sequence:
                    commands:
                      - exec: echo "${option.hosts}"
                """);
        Api.Reply bad = api.post("/api/v1/jobs/" + id + "/run", Map.of("options", Map.of("hosts", "web1,mail9")));
        assertThat(bad.status()).isEqualTo(422);
        assertThat(bad.json().path("error").asText()).isEqualTo("option 'hosts' is enforced to one of [web1, web2, db1], not 'mail9'");
        String ok = start(id, Map.of("hosts", "web1,db1"));
        assertThat(finished(ok).path("status").asText()).isEqualTo("succeeded");
        assertThat(stdout(ok)).containsExactly("web1,db1");
    }

    @Test
    void aJobWithoutMultipleExecutionsRunsOnceAtATime() {
        String id = job("""
                - name: exclusive
                  multipleExecutions: false
                  sequence:
                    commands:
                      - exec: sleep 30
                """);
        String first = start(id, Map.of());
        Api.Reply second = api.post("/api/v1/jobs/" + id + "/run", Map.of());
        assertThat(second.status()).isEqualTo(409);
        assertThat(second.json().path("error").asText()).contains("already running and does not allow multiple executions");
        api.post("/api/v1/executions/" + first + "/abort", Map.of());
        assertThat(finished(first).path("status").asText()).isEqualTo("aborted");
        String third = start(id, Map.of());
        api.post("/api/v1/executions/" + third + "/abort", Map.of());
        assertThat(finished(third).path("status").asText()).isEqualTo("aborted");
    }

    @Test
    void aDisabledJobDoesNotRun() {
        String id = job("""
                - name: disabled
                  executionEnabled: false
                  sequence: {commands: [{exec: echo no}]}
                """);
        Api.Reply run = api.post("/api/v1/jobs/" + id + "/run", Map.of());
        assertThat(run.status()).isEqualTo(409);
        assertThat(run.json().path("error").asText()).contains("executionEnabled: false");
    }

    @Test
    void aJobReferenceRunsTheOtherJobWithItsArgsAndACycleFails() {
        job("""
                - name: child
                  group: lib
                  options:
                    - name: greeting
                      required: true
                  sequence:
                    commands:
                      - exec: echo child says ${option.greeting}
                """);
        String parent = job("""
                - name: parent
                  options:
                    - name: word
                      value: hi
                  sequence:
                    commands:
                      - jobref:
                          group: lib
                          name: child
                          args: -greeting ${option.word}
                      - exec: echo parent done
                """);
        String execution = start(parent, Map.of("word", "bonjour"));
        assertThat(finished(execution).path("status").asText()).isEqualTo("succeeded");
        assertThat(stdout(execution)).containsExactly("child says bonjour", "parent done");

        Api.Reply loop = api.postYaml("/api/v1/projects/sem/jobs/import", """
                - name: ping
                  sequence:
                    commands:
                      - jobref: {name: pong}
                - name: pong
                  sequence:
                    commands:
                      - jobref: {name: ping}
                """);
        assertThat(loop.status()).isEqualTo(422);
        assertThat(loop.json().path("error").asText()).isEqualTo("job references form a cycle: ping -> pong -> ping");
        assertThat(api.get("/api/v1/projects/sem/jobs").json().findValuesAsText("name")).doesNotContain("ping", "pong");

        String dynamic = job("""
                - name: dynamic
                  options:
                    - name: target
                      value: dynamic
                  sequence:
                    commands:
                      - jobref:
                          name: ${option.target}
                """);
        JsonNode done = finished(start(dynamic, Map.of()));
        assertThat(done.path("status").asText()).as("a cycle through an option is caught when it runs").isEqualTo("failed");
        assertThat(done.path("reason").asText()).contains("job reference cycle");
    }
}
