package dev.tandem.runtime.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * No single request can exhaust the runtime's memory or store a value that weighs on the
 * database and the replication stream: every body, option value, job definition and description
 * has a limit from the configuration, each tried at the limit (accepted) and one past it (refused
 * with 413 or 422 naming the setting, nothing stored).
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class RequestLimitsTest {
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime("limits",
            ConfigOverride.config("api.maxRequestSize", "256KiB"),
            ConfigOverride.config("api.maxOptionValueLength", "1000"),
            ConfigOverride.config("api.maxJobDefinitionLength", "20000"),
            ConfigOverride.config("api.maxDescriptionLength", "100"),
            ConfigOverride.config("api.maxScheduledFiresPerMinute", "5"),
            ConfigOverride.config("execution.defaultLogLimit", "50"));
    static Api admin;
    static Api anonymous;
    static String jobId;

    @BeforeAll
    static void project() {
        admin = RuntimeFixture.api(APP);
        anonymous = admin.withToken(null);
        admin.post("/api/v1/projects", Map.of("name", "limits"));
        Api.Reply imported = admin.postYaml("/api/v1/projects/limits/jobs/import", """
                - name: echo
                  options:
                    - name: text
                  sequence:
                    commands:
                      - exec: echo ${option.text}
                """);
        jobId = imported.json().path("jobs").get(0).path("id").asText();
    }

    @Test
    void anOversizedBodyIsRefusedBeforeAuthenticationOrParsing() {
        byte[] big = ("{\"user\":\"admin\",\"password\":\"" + "x".repeat(3 * 1024 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
        Api.Reply declared = anonymous.postBytes("/api/v1/tokens", "application/json", big);
        assertThat(declared.status()).isEqualTo(413);
        assertThat(declared.json().path("error").asText())
                .isEqualTo("the request body (" + big.length + " bytes) is larger than the limit of 262144 bytes (api.maxRequestSize)");

        Api.Reply chunked = anonymous.postChunked("/api/v1/tokens", "application/json", () -> new java.io.ByteArrayInputStream(big));
        assertThat(chunked.status()).as("a body without a declared length is counted as it is read").isEqualTo(413);
        assertThat(chunked.json().path("error").asText()).contains("larger than the limit of 262144 bytes (api.maxRequestSize)");

        byte[] endless = "{".getBytes(StandardCharsets.UTF_8);
        Api.Reply stream = admin.postChunked("/api/v1/jobs/" + jobId + "/run", "application/json", () -> new InputStream() {
            long sent;

            @Override
            public int read() {
                return sent++ == 0 ? endless[0] : (sent > 64L * 1024 * 1024 ? -1 : ' ');
            }
        });
        assertThat(stream.status()).as("a 64 MiB body of blanks").isEqualTo(413);

        Api.Reply justUnder = admin.postBytes("/api/v1/projects", "application/json",
                ("{\"name\":\"under\",\"description\":\"" + "d".repeat(200 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8));
        assertThat(justUnder.status()).as("a body under the limit is parsed (and judged on its content)").isNotEqualTo(413);
    }

    @Test
    void anOptionValuePastItsLimitIsRefusedAndNothingRuns() {
        int before = admin.get("/api/v1/jobs/" + jobId + "/executions").json().size();
        Api.Reply atLimit = admin.post("/api/v1/jobs/" + jobId + "/run", Map.of("options", Map.of("text", "v".repeat(1000))));
        assertThat(atLimit.status()).isEqualTo(201);
        Api.Reply past = admin.post("/api/v1/jobs/" + jobId + "/run", Map.of("options", Map.of("text", "v".repeat(1001))));
        assertThat(past.status()).isEqualTo(422);
        assertThat(past.json().path("error").asText())
                .isEqualTo("the value of option 'text' is 1001 characters; the limit is 1000 (api.maxOptionValueLength)");
        assertThat(past.json().path("where").asText()).isEqualTo("options.text");
        assertThat(admin.get("/api/v1/jobs/" + jobId + "/executions").json().size()).isEqualTo(before + 1);
    }

    @Test
    void anOptionRuleThatBacktracksWithoutEndIsCutShortWith422() {
        String job = admin.postYaml("/api/v1/projects/limits/jobs/import", """
                - name: backtracking
                  options:
                    - name: text
                      regex: '(((.+)+)+)+X'
                  sequence:
                    commands:
                      - exec: echo ${option.text}
                """).json().path("jobs").get(0).path("id").asText();
        Api.Reply reply = admin.post("/api/v1/jobs/" + job + "/run", Map.of("options", Map.of("text", "a".repeat(40))));
        assertThat(reply.status()).isEqualTo(422);
        assertThat(reply.json().path("error").asText()).startsWith("option 'text': the regular expression '(((.+)+)+)+X' needs more than");
        assertThat(admin.post("/api/v1/jobs/" + job + "/run", Map.of("options", Map.of("text", "aaaX"))).status()).isEqualTo(201);
    }

    @Test
    void aJobDefinitionPastItsLimitIsRefusedAndNothingIsImported() {
        Api.Reply under = admin.postYaml("/api/v1/projects/limits/jobs/import", job("under-limit", 15000));
        assertThat(under.status()).isEqualTo(200);
        Api.Reply past = admin.postYaml("/api/v1/projects/limits/jobs/import", job("fits", 10) + job("over-limit", 21000));
        assertThat(past.status()).isEqualTo(422);
        assertThat(past.json().path("error").asText()).matches(
                "job 'over-limit' is 2\\d{4} characters when stored; the limit is 20000 \\(api.maxJobDefinitionLength\\)");
        assertThat(past.json().path("where").asText()).isEqualTo("job[1]");
        assertThat(admin.get("/api/v1/projects/limits/jobs").json().findValuesAsText("name"))
                .contains("under-limit").doesNotContain("fits", "over-limit");
    }

    @Test
    void scalarAliasesCannotMultiplyAValue() {
        StringBuilder yaml = new StringBuilder("- name: aliases\n  description: &long '" + "a".repeat(30000) + "'\n  options:\n");
        for (int i = 0; i < 300; i++) {
            yaml.append("    - name: o").append(i).append("\n      value: *long\n");
        }
        yaml.append("  sequence:\n    commands:\n      - exec: echo\n");
        Api.Reply reply = admin.postYaml("/api/v1/projects/limits/jobs/import", yaml.toString());
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.json().path("error").asText()).isEqualTo("YAML aliases (*name) are not supported in job definitions; write the value out");
        assertThat(reply.json().path("where").asText()).startsWith("line 2, column 16");
    }

    @Test
    void descriptionsOfTokensAndGroupsAreBounded() {
        assertThat(admin.post("/api/v1/tokens", Map.of("description", "t".repeat(100))).status()).isEqualTo(201);
        Api.Reply token = admin.post("/api/v1/tokens", Map.of("description", "t".repeat(101)));
        assertThat(token.status()).isEqualTo(422);
        assertThat(token.json().path("error").asText()).isEqualTo("the description is 101 characters; the limit is 100 (api.maxDescriptionLength)");
        Api.Reply group = admin.post("/api/v1/groups", Map.of("name", "g", "description", "g".repeat(101)));
        assertThat(group.status()).isEqualTo(422);
        assertThat(admin.get("/api/v1/groups/g").status()).isEqualTo(404);
    }

    @Test
    void aProjectsSchedulesTogetherFireAtMostTheirLimitAMinute() {
        admin.post("/api/v1/projects", Map.of("name", "cron"));
        Api.Reply tooOften = admin.postYaml("/api/v1/projects/cron/jobs/import", scheduled("every-10s", "0/10 * * * * ?"));
        assertThat(tooOften.status()).isEqualTo(422);
        assertThat(tooOften.json().path("error").asText()).isEqualTo("project 'cron' would fire more than 50 scheduled executions in the next "
                + "10 minutes; the limit is 5 a minute (api.maxScheduledFiresPerMinute)");
        assertThat(admin.postYaml("/api/v1/projects/cron/jobs/import", scheduled("every-15s", "0/15 * * * * ?")).status()).isEqualTo(200);
        assertThat(admin.postYaml("/api/v1/projects/cron/jobs/import", scheduled("every-minute", "0 * * * * ?")).status())
                .as("4 + 1 a minute: at the limit").isEqualTo(200);
        assertThat(admin.postYaml("/api/v1/projects/cron/jobs/import", scheduled("one-more", "30 * * * * ?")).status())
                .as("4 + 1 + 1 a minute: past it").isEqualTo(422);
        assertThat(admin.postYaml("/api/v1/projects/cron/jobs/import", scheduled("every-15s", "0/20 * * * * ?")).status())
                .as("a job replaced by the import counts with its new schedule only").isEqualTo(200);
        assertThat(admin.get("/api/v1/projects/cron/jobs").json().findValuesAsText("name")).containsExactlyInAnyOrder("every-15s", "every-minute");
        admin.get("/api/v1/projects/cron/jobs").json().forEach(j -> admin.delete("/api/v1/jobs/" + j.path("id").asText()));
    }

    @Test
    void aJobWithoutItsOwnLoglimitKeepsTheRuntimesDefaultAndRunsOn() {
        String chatty = dev.tandem.runtime.testing.Runs.importJob(admin, "limits",
                "- name: chatty\n  sequence: {commands: [{exec: 'seq 1 200'}, {exec: 'echo after'}]}\n");
        com.fasterxml.jackson.databind.JsonNode run = dev.tandem.runtime.testing.Runs.finished(admin,
                dev.tandem.runtime.testing.Runs.start(admin, chatty, Map.of()));
        assertThat(run.path("status").asText()).isEqualTo("succeeded");
        java.util.List<String> lines = dev.tandem.runtime.testing.Runs.lines(admin, run.path("id").asText(), null);
        assertThat(lines).contains("50").doesNotContain("51", "after")
                .anySatisfy(l -> assertThat(l).startsWith("log limit 50 (execution.defaultLogLimit) reached; further output is dropped"));
        String own = dev.tandem.runtime.testing.Runs.importJob(admin, "limits",
                "- name: chatty-own\n  loglimit: '1000'\n  sequence: {commands: [{exec: 'seq 1 200'}]}\n");
        String ownRun = dev.tandem.runtime.testing.Runs.start(admin, own, Map.of());
        dev.tandem.runtime.testing.Runs.finished(admin, ownRun);
        assertThat(dev.tandem.runtime.testing.Runs.lines(admin, ownRun, null)).as("a job's own loglimit wins").contains("200");
    }

    private static String scheduled(String name, String cron) {
        return "- name: " + name + "\n  schedule: {crontab: '" + cron + "'}\n"
                + "  sequence: {commands: [{exec: 'true'}]}\n";
    }

    private static String job(String name, int execLength) {
        return "- name: " + name + "\n  sequence:\n    commands:\n      - exec: echo " + "e".repeat(execLength) + "\n";
    }
}
