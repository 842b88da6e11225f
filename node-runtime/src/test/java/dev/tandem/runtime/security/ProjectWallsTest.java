package dev.tandem.runtime.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import dev.tandem.runtime.testing.Sql;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A project's writers reach nothing of another project: not its keys (through a secure option's
 * storagePath), not its jobs (through a job reference, by name, uuid or a value computed at run
 * time) unless the user has {@code run} there, and not even the existence of its jobs and
 * executions (a foreign id answers 404 like a missing one).
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class ProjectWallsTest {
    static final String MASTER = Base64.getEncoder().encodeToString("walls-master-key-0123456789abcde".getBytes(StandardCharsets.UTF_8));
    static final String DB = TestPostgres.newDatabase("walls");
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime(DB, "member-walls",
            ConfigOverride.config("keys.masterKeys[0].id", "k1"), ConfigOverride.config("keys.masterKeys[0].key", MASTER),
            ConfigOverride.config("keys.sharedPaths", "keys/shared"));
    static final String PASSWORD = "a long enough password";
    static Api admin;
    static Api writer;
    static Api both;
    static String secretJobId;
    static String secretJobUuid;
    static String secretExecution;

    @BeforeAll
    static void twoProjects() {
        admin = RuntimeFixture.api(APP);
        admin.post("/api/v1/projects", Map.of("name", "x"));
        admin.post("/api/v1/projects", Map.of("name", "y"));
        for (String[] key : List.of(new String[] {"project/x/pw", "x-password"}, new String[] {"project/y/pw", "y-password-7b3e"},
                new String[] {"global/pw", "global-password-2c9d"}, new String[] {"shared/pw", "shared-password"})) {
            assertThat(admin.postBytes("/api/v1/storage/keys/" + key[0], "application/x-rundeck-data-password",
                    key[1].getBytes(StandardCharsets.UTF_8)).status()).isEqualTo(201);
        }
        secretJobId = Runs.importJob(admin, "y", "- name: secret-job\n  sequence: {commands: [{exec: echo y ran}]}\n");
        secretJobUuid = admin.get("/api/v1/jobs/" + secretJobId).json().path("uuid").asText();
        secretExecution = Runs.start(admin, secretJobId, Map.of());
        Runs.finished(admin, secretExecution);
        admin.post("/api/v1/groups", Map.of("name", "x-write", "grants", List.of(Map.of("project", "x", "permission", "write"))));
        admin.post("/api/v1/groups", Map.of("name", "y-run", "grants", List.of(Map.of("project", "y", "permission", "run"))));
        admin.post("/api/v1/users", Map.of("name", "writer", "password", PASSWORD, "roles", List.of("x-write")));
        admin.post("/api/v1/users", Map.of("name", "both", "password", PASSWORD, "roles", List.of("x-write", "y-run")));
        writer = login("writer");
        both = login("both");
    }

    static Api login(String user) {
        return Runs.login(admin, user, PASSWORD);
    }

    static String secureOptionJob(String name, String storagePath) {
        return "- name: " + name + "\n  options:\n    - name: pw\n      secure: true\n      valueExposed: true\n      storagePath: " + storagePath
                + "\n  sequence: {commands: [{exec: 'echo $RD_OPTION_PW | rev'}]}\n";
    }

    @Test
    void aSecureOptionReadsOnlyItsOwnProjectsKeysAndTheSharedOnes() {
        for (String foreign : List.of("keys/project/y/pw", "keys/global/pw")) {
            Api.Reply refused = writer.postYaml("/api/v1/projects/x/jobs/import", secureOptionJob("steal", foreign));
            assertThat(refused.status()).as(refused.body()).isEqualTo(422);
            assertThat(refused.json().path("error").asText()).isEqualTo("option 'pw': the key " + foreign
                    + " is outside keys/project/x/; a project's jobs and nodes use its own keys, or those under the runtime's keys.sharedPaths");
            assertThat(refused.json().path("where").asText()).isEqualTo("job[0] 'steal' options.pw.storagePath");
        }
        assertThat(admin.postYaml("/api/v1/projects/x/jobs/import", secureOptionJob("steal", "keys/project/y/pw")).status())
                .as("the rule is the project's, not the user's: an admin's job in x cannot read y's keys either").isEqualTo(422);
        assertThat(admin.get("/api/v1/projects/x/jobs").json().findValuesAsText("name")).doesNotContain("steal");

        for (String allowed : List.of("keys/project/x/pw", "keys/shared/pw")) {
            String job = Runs.importJob(writer, "x", secureOptionJob("own-" + allowed.replace('/', '-'), allowed));
            JsonNode run = Runs.finished(writer, Runs.start(writer, job, Map.of()));
            assertThat(run.path("status").asText()).isEqualTo("succeeded");
        }
    }

    @Test
    void aJobStoredBeforeTheRuleStillCannotReadAnotherProjectsKeyWhenItRuns() throws Exception {
        String job = Runs.importJob(admin, "x", secureOptionJob("older", "keys/project/x/pw"));
        Sql.exec(DB, "UPDATE tandem.jobs SET definition = replace(definition::text, 'keys/project/x/pw', 'keys/project/y/pw')::json WHERE id = ?::uuid", job);
        Api.Reply run = writer.post("/api/v1/jobs/" + job + "/run", Map.of());
        assertThat(run.status()).isEqualTo(422);
        assertThat(run.json().path("error").asText()).startsWith("option 'pw': the key keys/project/y/pw is outside keys/project/x/");
        assertThat(run.body()).doesNotContain("y-password").doesNotContain("e3b7-drowssap-y");
    }

    @Test
    void aJobReferenceIntoAProjectWithoutRunIsRefusedAtImport() {
        int before = admin.get("/api/v1/projects/x/jobs").json().size();
        for (String ref : List.of("{project: y, name: secret-job}", "{uuid: '" + secretJobUuid + "'}")) {
            Api.Reply refused = writer.postYaml("/api/v1/projects/x/jobs/import",
                    "- name: cross\n  sequence: {commands: [{exec: echo before}, {jobref: " + ref + "}]}\n");
            assertThat(refused.status()).as(refused.body()).isEqualTo(403);
            assertThat(refused.json().path("error").asText()).isEqualTo("the job reference runs a job of project 'y', where writer lacks 'run'");
            assertThat(refused.json().path("where").asText()).isEqualTo("job[0] 'cross' step 2");
        }
        assertThat(admin.get("/api/v1/projects/x/jobs").json().size()).isEqualTo(before);
        Api.Reply allowed = both.postYaml("/api/v1/projects/x/jobs/import",
                "- name: cross-allowed\n  sequence: {commands: [{jobref: {project: y, name: secret-job}}]}\n");
        assertThat(allowed.status()).as("a user with run on y may").isEqualTo(200);
    }

    @Test
    void aJobReferenceComputedFromAnOptionIsCheckedWhenItRunsForTheUserWhoStartedIt() {
        String job = Runs.importJob(writer, "x", """
                - name: computed
                  options:
                    - name: target
                      value: x
                  sequence:
                    commands:
                      - jobref: {project: '${option.target}', name: secret-job}
                """);
        int secretRunsBefore = admin.get("/api/v1/jobs/" + secretJobId + "/executions").json().size();
        JsonNode refused = Runs.finished(writer, Runs.start(writer, job, Map.of("target", "y")));
        assertThat(refused.path("status").asText()).isEqualTo("failed");
        assertThat(String.join("\n", Runs.lines(admin, refused.path("id").asText(), null)))
                .contains("referenced job 'secret-job' of project 'y': missing permission 'run' on project 'y' for writer");
        assertThat(admin.get("/api/v1/jobs/" + secretJobId + "/executions").json().size()).as("y's job did not run").isEqualTo(secretRunsBefore);

        JsonNode allowed = Runs.finished(both, Runs.start(both, job, Map.of("target", "y")));
        assertThat(allowed.path("status").asText()).isEqualTo("succeeded");
        assertThat(Runs.lines(admin, allowed.path("id").asText(), null)).contains("y ran");
    }

    @Test
    void aScheduledRunCrossesProjectsWithTheGrantsOfTheUserWhoLastSavedTheJob() {
        String scheduled = """
                - name: nightly
                  uuid: 5a3c1d0e-walls-nightly
                  options:
                    - name: target
                      value: y
                  schedule:
                    crontab: '* * * * * ?'
                  sequence:
                    commands:
                      - jobref: {project: '${option.target}', name: secret-job}
                """;
        String job = Runs.importJob(writer, "x", scheduled);
        JsonNode refused = nextScheduled(job, java.util.Set.of());
        assertThat(refused.path("status").asText()).isEqualTo("failed");
        assertThat(String.join("\n", Runs.lines(admin, refused.path("id").asText(), null)))
                .contains("missing permission 'run' on project 'y' for writer");

        Runs.importJob(both, "x", scheduled);
        JsonNode allowed = nextScheduled(job, executionIds(job));
        assertThat(allowed.path("status").asText()).as("saved again by a user with run on y").isEqualTo("succeeded");
        assertThat(admin.delete("/api/v1/jobs/" + job).status()).isEqualTo(204);
    }

    private static java.util.Set<String> executionIds(String job) {
        java.util.Set<String> ids = new java.util.HashSet<>();
        admin.get("/api/v1/jobs/" + job + "/executions").json().forEach(e -> ids.add(e.path("id").asText()));
        return ids;
    }

    /** The first scheduled execution of the job, not among {@code before}, once it has finished. */
    private static JsonNode nextScheduled(String job, java.util.Set<String> before) {
        JsonNode[] found = new JsonNode[1];
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(100)).until(() -> {
            JsonNode history = admin.get("/api/v1/jobs/" + job + "/executions").json(); // newest first
            for (int i = history.size() - 1; i >= 0; i--) {
                JsonNode e = history.get(i);
                if (e.path("executionType").asText().equals("scheduled") && !before.contains(e.path("id").asText())
                        && !List.of("queued", "running").contains(e.path("status").asText())) {
                    found[0] = e;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    @Test
    void anotherProjectsJobsAndExecutionsAnswer404LikeMissingOnes() {
        String missing = UUID.randomUUID().toString();
        for (String[] path : List.of(new String[] {"/api/v1/jobs/", secretJobId, "job"}, new String[] {"/api/v1/executions/", secretExecution, "execution"})) {
            Api.Reply foreign = writer.get(path[0] + path[1]);
            Api.Reply absent = writer.get(path[0] + missing);
            assertThat(foreign.status()).isEqualTo(absent.status()).isEqualTo(404);
            assertThat(foreign.body().replace(path[1], missing)).isEqualTo(absent.body());
            assertThat(foreign.json().path("error").asText()).isEqualTo(path[2] + " '" + path[1] + "' not found");
        }
        assertThat(writer.post("/api/v1/jobs/" + secretJobId + "/run", Map.of()).status()).isEqualTo(404);
        assertThat(writer.delete("/api/v1/jobs/" + secretJobId).status()).isEqualTo(404);
        assertThat(writer.get("/api/v1/executions/" + secretExecution + "/output").status()).isEqualTo(404);
        assertThat(writer.post("/api/v1/executions/" + secretExecution + "/abort", Map.of()).status()).isEqualTo(404);
        assertThat(both.get("/api/v1/jobs/" + secretJobId).status()).as("run on y includes read").isEqualTo(200);
        assertThat(both.delete("/api/v1/jobs/" + secretJobId).status()).as("readable, not writable: named").isEqualTo(403);
    }
}
