package dev.tandem.runtime.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Rundeck job-YAML import over HTTP: every key of the subset, round trips, and refusals that write nothing. */
@ExtendWith(DropwizardExtensionsSupport.class)
class JobImportTest {
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime("import");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** Every key of the supported subset, written as a Rundeck user would. */
    static final String EVERY_KEY = """
            - name: deploy
              group: web/release
              uuid: 7f8e1b9c-3d2a-4f5e-9a8b-1c2d3e4f5a6b
              description: |-
                Deploys the web tier.
                Second line.
              loglevel: VERBOSE
              executionEnabled: true
              scheduleEnabled: true
              multipleExecutions: false
              timeout: 6h 30m
              retry:
                retry: '3'
                delay: 30s
              loglimit: 10MB
              loglimitAction: truncate
              loglimitStatus: failed
              timeZone: Europe/Paris
              options:
                - name: version
                  description: what to deploy
                  required: true
                  regex: '\\d+\\.\\d+'
                - name: env
                  value: staging
                  values: [staging, prod]
                  enforced: true
                - name: hosts
                  multivalued: true
                  delimiter: ','
                - name: password
                  secure: true
                  valueExposed: false
                  storagePath: keys/project/imports/deploy-password
              schedule:
                time:
                  hour: '02'
                  minute: '30'
                  seconds: '0'
                month: '*'
                weekday:
                  day: MON-FRI
                year: '*'
              nodefilters:
                filter: 'tags: web+prod !osFamily: windows'
                dispatch:
                  threadcount: 4
                  keepgoing: true
                  rankAttribute: name
                  rankOrder: descending
                  excludePrecedence: true
              notification:
                onfailure:
                  email:
                    recipients: ops@example.com
              sequence:
                keepgoing: true
                strategy: node-first
                commands:
                  - exec: echo deploying ${option.version}
                    description: announce
                    errorhandler:
                      exec: echo recovering
                      keepgoingOnSuccess: true
                  - script: |
                      #!/bin/sh
                      echo "script @option.env@ $1"
                    args: -x 'two words'
                    scriptInterpreter: /bin/bash
                    interpreterArgsQuoted: false
                    fileExtension: .sh
                  - scriptfile: /opt/deploy/check.sh
                    args: --quick
                  - jobref:
                      group: web/release
                      name: smoke-test
                      args: -env ${option.env}
            - name: smoke-test
              group: web/release
              options:
                env:
                  value: staging
              schedule:
                crontab: 0 0/15 * ? * * *
              sequence:
                commands:
                  - exec: echo smoke ${option.env}
            """;

    static Api api;

    @BeforeAll
    static void project() {
        api = RuntimeFixture.api(APP);
        api.post("/api/v1/projects", Map.of("name", "imports"));
        api.post("/api/v1/projects", Map.of("name", "other"));
    }

    int jobCount(String project) {
        return api.get("/api/v1/projects/" + project + "/jobs").json().size();
    }

    @Test
    void everyKeyOfTheSubsetImportsAndRoundTripsThroughExport() throws Exception {
        Api.Reply imported = api.postYaml("/api/v1/projects/imports/jobs/import", EVERY_KEY);
        assertThat(imported.status()).as(imported.body()).isEqualTo(200);
        assertThat(imported.json().path("created").asInt()).isEqualTo(2);
        JsonNode deploy = imported.json().path("jobs").get(0);
        assertThat(deploy.path("uuid").asText()).isEqualTo("7f8e1b9c-3d2a-4f5e-9a8b-1c2d3e4f5a6b");
        assertThat(deploy.path("warnings").toString())
                .as("keys Tandem stores without acting on are reported, never silently dropped")
                .contains("'notification' is stored and exported but not acted on");

        String export = api.get("/api/v1/projects/imports/jobs/export").body();
        JsonNode original = YAML.readTree(EVERY_KEY);
        JsonNode exported = YAML.readTree(export);
        assertThat(exported).hasSize(2);
        JsonNode exportedDeploy = byName(exported, "deploy");
        assertThat(normalise(exportedDeploy)).isEqualTo(normalise(byName(original, "deploy")));
        JsonNode exportedSmoke = byName(exported, "smoke-test");
        assertThat(exportedSmoke.path("uuid").asText()).isEqualTo(imported.json().path("jobs").get(1).path("uuid").asText());
        JsonNode smokeWithoutUuid = ((com.fasterxml.jackson.databind.node.ObjectNode) normalise(exportedSmoke)).without("uuid");
        assertThat(smokeWithoutUuid).isEqualTo(normalise(byName(original, "smoke-test")));

        Api.Reply reimported = api.postYaml("/api/v1/projects/imports/jobs/import", export);
        assertThat(reimported.json().path("updated").asInt()).as("export then import updates the same jobs").isEqualTo(2);
        assertThat(api.get("/api/v1/projects/imports/jobs/export").body()).as("and exports the very same text").isEqualTo(export);
        assertThat(jobCount("imports")).isEqualTo(2);
    }

    @Test
    void malformedYamlIsRefusedWithItsLineAndNothingIsWritten() {
        int before = jobCount("imports");
        Api.Reply reply = api.postYaml("/api/v1/projects/imports/jobs/import", """
                - name: broken
                  sequence:
                    commands:
                      - exec: echo [unclosed
                     - exec: misaligned
                """);
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.json().path("error").asText()).startsWith("malformed YAML");
        assertThat(reply.json().path("where").asText()).matches("line \\d+, column \\d+");
        assertThat(jobCount("imports")).isEqualTo(before);
    }

    @Test
    void anUnknownStepTypeIsRefusedNamingTheJobTheStepAndTheLine() {
        int before = jobCount("imports");
        Api.Reply reply = api.postYaml("/api/v1/projects/imports/jobs/import", """
                - name: fine
                  sequence:
                    commands:
                      - exec: echo fine
                - name: odd
                  sequence:
                    commands:
                      - exec: echo one
                      - shell: echo two
                """);
        assertThat(reply.status()).isEqualTo(422);
        assertThat(reply.json().path("error").asText()).contains("unknown step type").contains("[shell]");
        assertThat(reply.json().path("where").asText()).isEqualTo("job[1] 'odd' sequence.commands[1] (line 9, column 9)");
        assertThat(jobCount("imports")).as("the valid job of a refused import is not written either").isEqualTo(before);
    }

    @Test
    void badValuesAreRefusedEachWithItsFieldAndLine() {
        int before = jobCount("imports");
        Api.Reply reply = api.postYaml("/api/v1/projects/imports/jobs/import", """
                - name: bad
                  timeout: ten minutes
                  loglevel: LOUD
                  schedule:
                    crontab: 0 61 * * * ?
                  options:
                    - name: x
                      regex: '[unclosed'
                  sequence:
                    strategy: sideways
                    commands:
                      - exec: ''
                """);
        assertThat(reply.status()).isEqualTo(422);
        JsonNode problems = reply.json().path("problems");
        assertThat(problems.findValuesAsText("where")).containsExactlyInAnyOrder(
                "job[0] 'bad' loglevel (line 3, column 13)",
                "job[0] 'bad' timeout (line 2, column 12)",
                "job[0] 'bad' sequence.strategy (line 10, column 15)",
                "job[0] 'bad' sequence.commands[0].exec (line 12, column 15)",
                "job[0] 'bad' options[0].regex (line 8, column 14)",
                "job[0] 'bad' schedule.crontab (line 5, column 14)");
        assertThat(problems.findValuesAsText("error")).anySatisfy(e -> assertThat(e).startsWith("bad timeout: 'ten minutes' is not a duration"));
        assertThat(problems.findValuesAsText("error")).anySatisfy(e -> assertThat(e).startsWith("invalid schedule '0 61 * * * ?'"));
        assertThat(jobCount("imports")).isEqualTo(before);
    }

    @Test
    void anOversizedBodyIsRefusedWith413() {
        StringBuilder big = new StringBuilder("- name: big\n  description: '");
        big.append("x".repeat(70 * 1024)).append("'\n  sequence:\n    commands:\n      - exec: echo\n");
        Api.Reply reply = api.postBytes("/api/v1/projects/imports/jobs/import", "application/yaml", big.toString().getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).isEqualTo(413);
        assertThat(reply.json().path("error").asText()).contains("larger than the limit of 65536 bytes");
        assertThat(api.get("/api/v1/projects/imports/jobs").json().findValuesAsText("name")).doesNotContain("big");
    }

    @Test
    void unknownKeysComeBackAsWarningsAndAreKept() {
        Api.Reply reply = api.postYaml("/api/v1/projects/imports/jobs/import", """
                - name: curious
                  colour: blue
                  sequence:
                    commands:
                      - exec: echo hi
                        flavour: vanilla
                """);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        assertThat(reply.json().path("jobs").get(0).path("warnings").toString())
                .contains("unknown key 'colour' (line 2, column 11) is kept but has no effect")
                .contains("unknown key 'flavour' in sequence.commands[0] (line 6, column 18)");
        String id = reply.json().path("jobs").get(0).path("id").asText();
        assertThat(api.get("/api/v1/jobs/" + id + "?format=yaml").body()).contains("colour: blue").contains("flavour: vanilla");
    }

    @Test
    void aUuidOfAnotherProjectsJobIsAConflictAndNothingIsWritten() {
        Api.Reply first = api.postYaml("/api/v1/projects/other/jobs/import", """
                - name: owned
                  uuid: 11111111-2222-3333-4444-555555555555
                  sequence:
                    commands:
                      - exec: echo
                """);
        assertThat(first.status()).isEqualTo(200);
        int before = jobCount("imports");
        Api.Reply stolen = api.postYaml("/api/v1/projects/imports/jobs/import", """
                - name: harmless
                  sequence:
                    commands:
                      - exec: echo
                - name: thief
                  uuid: 11111111-2222-3333-4444-555555555555
                  sequence:
                    commands:
                      - exec: echo
                """);
        assertThat(stolen.status()).isEqualTo(409);
        assertThat(stolen.json().path("error").asText()).contains("belongs to job 'owned' of project 'other'");
        assertThat(stolen.json().path("where").asText()).startsWith("job[1] 'thief'");
        assertThat(jobCount("imports")).isEqualTo(before);
    }

    @Test
    void theSameJobTwiceInOneImportIsRefused() {
        Api.Reply reply = api.postYaml("/api/v1/projects/imports/jobs/import", """
                - name: twin
                  sequence: {commands: [{exec: echo}]}
                - name: twin
                  sequence: {commands: [{exec: echo}]}
                """);
        assertThat(reply.status()).isEqualTo(422);
        assertThat(reply.json().path("error").asText()).isEqualTo("job 'twin' appears twice in this import");
    }

    /** YAML would silently keep one of two equal keys (here: which command runs); the import says where instead. */
    @Test
    void aKeyTwiceInOneMapIsRefusedWithItsLine() {
        long before = jobCount("imports");
        Api.Reply reply = api.postYaml("/api/v1/projects/imports/jobs/import", """
                - name: doubled
                  sequence:
                    commands:
                      - exec: echo harmless
                        exec: rm -rf /tmp/something
                """);
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.json().path("error").asText()).contains("the key 'exec' appears twice in one map (first on line 4)");
        assertThat(reply.json().path("where").asText()).isEqualTo("line 5, column 9");
        Api.Reply json = api.send("POST", "/api/v1/projects/imports/jobs/import", "application/json",
                "[{\"name\": \"j\", \"name\": \"k\", \"sequence\": {\"commands\": [{\"exec\": \"echo\"}]}}]"
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(json.status()).as(json.body()).isEqualTo(400);
        assertThat(json.json().path("error").asText()).contains("the key 'name' appears twice");
        assertThat(jobCount("imports")).isEqualTo(before);
    }

    @Test
    void emptyAndScalarDocumentsAreRefused() {
        assertThat(api.postYaml("/api/v1/projects/imports/jobs/import", "").json().path("error").asText()).isEqualTo("the YAML document is empty");
        assertThat(api.postYaml("/api/v1/projects/imports/jobs/import", "just words").status()).isEqualTo(400);
        assertThat(api.postYaml("/api/v1/projects/imports/jobs/import", "- name: nosteps\n").json().path("error").asText())
                .contains("needs a 'sequence'");
    }

    @Test
    void optionsThatWouldShareAnEnvironmentVariableAreRefused() {
        Api.Reply reply = api.postYaml("/api/v1/projects/imports/jobs/import", """
                - name: clash
                  options:
                    - name: db.host
                    - name: db_host
                  sequence: {commands: [{exec: echo}]}
                """);
        assertThat(reply.status()).isEqualTo(422);
        assertThat(reply.json().path("error").asText()).isEqualTo("options 'db.host' and 'db_host' would both be exported as RD_OPTION_DB_HOST; rename one");
    }

    @Test
    void yamlAliasesAreRefusedSoASmallDocumentCannotExplode() {
        StringBuilder bomb = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 10; i++) {
            bomb.append("a").append(i).append(": &a").append(i).append(" [*a").append(i - 1).append(", *a").append(i - 1)
                    .append(", *a").append(i - 1).append(", *a").append(i - 1).append("]\n");
        }
        bomb.append("name: boom\nsequence: {commands: [{exec: echo}]}\n");
        Api.Reply reply = api.postYaml("/api/v1/projects/imports/jobs/import", bomb.toString());
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.json().path("error").asText()).containsIgnoringCase("aliases");
        Api.Reply loop = api.postYaml("/api/v1/projects/imports/jobs/import", "- &a [x, *a]\n");
        assertThat(loop.status()).isEqualTo(400);
        assertThat(loop.json().path("error").asText()).isEqualTo("YAML aliases (*name) are not supported in job definitions; write the value out");
        Api.Reply one = api.postYaml("/api/v1/projects/other/jobs/import", "- name: &n aliased\n  description: *n\n  sequence: {commands: [{exec: echo}]}\n");
        assertThat(one.status()).as("a value's alias too: 300 of them store a long value 300 times").isEqualTo(400);
        assertThat(one.json().path("where").asText()).as("the value aliased").isEqualTo("line 1, column 9");
    }

    @Test
    void textThatLooksLikeANumberStaysTextThroughExportAndImport() throws Exception {
        Api.Reply imported = api.postYaml("/api/v1/projects/other/jobs/import", """
                - name: versions
                  options:
                    - name: version
                      value: '1.10'
                  sequence: {commands: [{exec: echo}]}
                """);
        String id = imported.json().path("jobs").get(0).path("id").asText();
        String yaml = api.get("/api/v1/jobs/" + id + "?format=yaml").body();
        api.postYaml("/api/v1/projects/other/jobs/import", yaml);
        JsonNode option = api.get("/api/v1/jobs/" + id).json().path("definition").path("options").get(0);
        assertThat(option.path("value").isTextual()).isTrue();
        assertThat(option.path("value").asText()).isEqualTo("1.10");
    }

    static JsonNode byName(JsonNode jobs, String name) {
        for (JsonNode job : jobs) {
            if (job.path("name").asText().equals(name)) {
                return job;
            }
        }
        throw new AssertionError("no job " + name + " in " + jobs);
    }

    /** YAML scalars may change quoting on the way out ('3' vs 3): compare values as text. */
    static JsonNode normalise(JsonNode node) {
        ObjectMapper json = new ObjectMapper();
        if (node.isObject()) {
            var out = json.createObjectNode();
            node.fields().forEachRemaining(e -> out.set(e.getKey(), normalise(e.getValue())));
            return out;
        }
        if (node.isArray()) {
            var out = json.createArrayNode();
            node.forEach(n -> out.add(normalise(n)));
            return out;
        }
        return json.getNodeFactory().textNode(node.asText());
    }
}
