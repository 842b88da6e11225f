package dev.tandem.runtime.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import dev.tandem.runtime.testing.SshNodes;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Jobs on a fleet of real SSH servers (Apache MINA SSHD on loopback): node filters select the
 * nodes, steps run per node over SSH with key or password auth from key storage, each failure
 * names its node and cause, and dispatch honours strategy, ranking, threadcount and keepgoing.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class SshDispatchTest {
    static final String MASTER = Base64.getEncoder().encodeToString("ssh-test-master-key-32-bytes-ok!".getBytes(StandardCharsets.UTF_8));
    static final Path DIR = Machine.tempDir("ssh-dispatch");
    static final Path KNOWN_HOSTS = DIR.resolve("known_hosts");
    static final Path NODES = DIR.resolve("nodes.yaml");
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime(TestPostgres.newDatabase("ssh"), "member-ssh",
            ConfigOverride.config("keys.masterKeys[0].id", "k1"), ConfigOverride.config("keys.masterKeys[0].key", MASTER),
            ConfigOverride.config("ssh.knownHostsFile", KNOWN_HOSTS.toString()),
            ConfigOverride.config("ssh.connectTimeout", "3s"));
    static final SshNodes SSH = new SshNodes();
    static Api api;

    @BeforeAll
    static void fleet() throws Exception {
        api = RuntimeFixture.api(APP);
        SshNodes.Server web1 = SSH.start();
        SshNodes.Server web2 = SSH.start();
        SshNodes.Server web3 = SSH.start();
        SshNodes.Server stranger = SSH.start();
        Files.writeString(KNOWN_HOSTS, web1.knownHostsLine() + "\n" + web2.knownHostsLine() + "\n" + web3.knownHostsLine() + "\n");
        Files.writeString(NODES, """
                web1: {hostname: '127.0.0.1:%1$d', username: deploy, tags: 'web', rank: '10'}
                web2: {hostname: '127.0.0.1:%2$d', username: deploy, tags: 'web', rank: '9'}
                web3: {hostname: '127.0.0.1:%3$d', username: deploy, tags: 'web', rank: '20'}
                pw: {hostname: '127.0.0.1:%2$d', username: deploy, tags: 'pw', ssh-authentication: password, ssh-password-storage-path: keys/project/fleet/node-password}
                wrongkey: {hostname: '127.0.0.1:%1$d', username: deploy, tags: 'broken', ssh-key-storage-path: keys/project/fleet/other-key}
                stranger: {hostname: '127.0.0.1:%4$d', username: deploy, tags: 'broken'}
                refused: {hostname: '127.0.0.1:%5$d', username: deploy, tags: 'broken'}
                hung: {hostname: '127.0.0.1:%6$d', username: deploy, tags: 'broken', ssh-connect-timeout: '1000'}
                slow: {hostname: '127.0.0.1:%3$d', username: deploy, tags: 'broken', ssh-command-timeout: '700'}
                foreign: {hostname: 'deploy@127.0.0.1:%1$d', tags: 'broken', ssh-key-storage-path: keys/other-project/id}
                """.formatted(web1.port(), web2.port(), web3.port(), stranger.port(), SshNodes.closedPort(), SSH.silentPort()));
        assertThat(api.post("/api/v1/projects", Map.of("name", "fleet", "config", Map.of(
                "nodeSources", List.of(Map.of("type", "file", "path", NODES.toString())),
                "ssh", Map.of("keyStoragePath", "keys/project/fleet/id")))).status()).isEqualTo(201);
        assertThat(api.postBytes("/api/v1/storage/keys/project/fleet/id", "application/octet-stream", SshNodes.pem(SSH.clientKey())).status()).isEqualTo(201);
        assertThat(api.postBytes("/api/v1/storage/keys/project/fleet/other-key", "application/octet-stream", SshNodes.pem(SshNodes.generate())).status())
                .isEqualTo(201);
        assertThat(api.postBytes("/api/v1/storage/keys/project/fleet/node-password", "application/x-rundeck-data-password",
                SshNodes.PASSWORD.getBytes(StandardCharsets.UTF_8)).status()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        SSH.close();
    }

    private static JsonNode run(String yaml, Map<String, String> options) {
        return Runs.finished(api, Runs.start(api, Runs.importJob(api, "fleet", yaml), options));
    }

    /** (node, text) of each stdout line, in log order. */
    private static List<String> stdout(JsonNode execution) {
        return Runs.entries(api, execution.path("id").asText()).stream().filter(e -> e.path("stream").asText().equals("stdout"))
                .map(e -> e.path("node").asText() + ": " + e.path("log").asText()).toList();
    }

    @Test
    void commandAndScriptStepsRunOnEveryMatchedNodeWithTheirOwnOutputAndTheScriptIsRemoved() throws Exception {
        JsonNode execution = run("""
                - name: deploy
                  options:
                    - name: greeting
                      value: hello
                  nodefilters:
                    filter: 'tags: web'
                    dispatch: {threadcount: 3, keepgoing: true}
                  sequence:
                    commands:
                      - exec: echo "exec ${node.name}" $RD_NODE_NAME "${option.greeting}"
                      - script: |
                          #!/bin/sh
                          echo "script @node.name@ $1 $RD_OPTION_GREETING from $0"
                        args: '${option.greeting} ignored'
                      - scriptInterpreter: /bin/sh -e
                        script: |
                          echo "interpreted on @node.hostname@"
                """, Map.of("greeting", "hi there"));
        assertThat(execution.path("status").asText()).as(execution.toString()).isEqualTo("succeeded");
        List<String> out = stdout(execution);
        for (String node : List.of("web1", "web2", "web3")) {
            assertThat(out).contains(node + ": exec " + node + " " + node + " hi there");
            assertThat(out).anySatisfy(line -> assertThat(line).startsWith(node + ": script " + node + " hi there hi there from /tmp/tandem-"));
            assertThat(out).anySatisfy(line -> assertThat(line).startsWith(node + ": interpreted on 127.0.0.1:"));
        }
        assertThat(out).hasSize(9);
        String prefix = "tandem-" + execution.path("id").asText();
        try (Stream<Path> left = Files.list(Path.of("/tmp"))) {
            assertThat(left.filter(p -> p.getFileName().toString().startsWith(prefix)).toList())
                    .as("uploaded scripts are removed from the node afterwards").isEmpty();
        }
    }

    /** Values a caller with only the run permission may send, each one an injection attempt if pasted into a shell line. */
    static final List<String> SHAPES = List.of("$(id)", "`id`", "; id", "&& id", "| id", "' ; id ; '", "\" ; id ; \"", "\\\"; id",
            "$HOME", "${PATH}", "two\nlines; id", "*", "~", "> /tmp/tandem-injected", "$((6*7))", "'\"'\"'");

    /**
     * Option values are data in an {@code exec} line, on the Tandem host and over SSH alike (as
     * Rundeck quotes them): whatever shell syntax a value holds arrives as typed, and nothing in
     * it runs.
     */
    @Test
    void optionValuesArriveAsTypedOnTheTandemHostAndOverSshWhateverShellSyntaxTheyHold() throws Exception {
        StringBuilder options = new StringBuilder();
        StringBuilder steps = new StringBuilder();
        Map<String, String> values = new java.util.LinkedHashMap<>();
        for (int i = 0; i < SHAPES.size(); i++) {
            options.append("    - name: v").append(i).append('\n');
            steps.append("      - exec: printf '%s|\\n' \"v").append(i).append("=${option.v").append(i).append("}\"\n");
            steps.append("      - exec: printf '%s|\\n' u").append(i).append("=${option.v").append(i).append("}\n");
            values.put("v" + i, SHAPES.get(i));
        }
        for (String where : List.of("", "  nodefilters: {filter: 'name: web1'}\n")) {
            JsonNode execution = run("""
                    - name: quoted%s
                      options:
                    %s%s  sequence:
                        commands:
                    %s""".formatted(where.isEmpty() ? "-local" : "-ssh", options, where, steps), values);
            assertThat(execution.path("status").asText()).as(execution.toString()).isEqualTo("succeeded");
            String out = String.join("\n", Runs.lines(api, execution.path("id").asText(), "stdout"));
            for (int i = 0; i < SHAPES.size(); i++) {
                assertThat(out).as(where + " quoted word").contains("v" + i + "=" + SHAPES.get(i) + "|");
                assertThat(out).as(where + " bare word").contains("u" + i + "=" + SHAPES.get(i) + "|");
            }
            assertThat(out).doesNotContain("uid=").doesNotContain("=42|");
            assertThat(Path.of("/tmp/tandem-injected")).doesNotExist();
        }
    }

    @Test
    void aScriptFilePathBuiltFromAnOptionCannotLeaveItsFolder() throws Exception {
        Path scripts = Files.createDirectories(DIR.resolve("scripts"));
        Files.writeString(scripts.resolve("hello.sh"), "#!/bin/sh\necho hello from the script folder\n");
        scripts.resolve("hello.sh").toFile().setExecutable(true);
        String yaml = """
                - name: scriptfile-%s
                  options:
                    - name: script
                  sequence:
                    commands:
                      - scriptfile: %s/${option.script}
                """;
        JsonNode ok = run(yaml.formatted("ok", scripts), Map.of("script", "hello.sh"));
        assertThat(ok.path("status").asText()).as(ok.toString()).isEqualTo("succeeded");
        assertThat(Runs.lines(api, ok.path("id").asText(), "stdout")).containsExactly("hello from the script folder");
        for (String escape : List.of("../../../../../../bin/true", "..", "/bin/true")) {
            JsonNode refused = run(yaml.formatted("escape" + escape.length(), scripts), Map.of("script", escape));
            assertThat(refused.path("status").asText()).as(refused.toString()).isEqualTo("failed");
            String log = String.join("\n", Runs.lines(api, refused.path("id").asText(), null));
            assertThat(log).contains("${option.script} in the path '" + scripts + "/${option.script}' expands to a value that is not a single "
                    + "file name");
            if (escape.contains("/")) {
                assertThat(log).as("the value itself is not repeated").doesNotContain(escape);
            }
        }
    }

    @Test
    void exitCodesBecomeStepResultsPerNode() {
        JsonNode execution = run("""
                - name: one-node-fails
                  nodefilters:
                    filter: 'tags: web'
                    dispatch: {keepgoing: true}
                  sequence:
                    commands:
                      - exec: 'if [ ${node.name} = web3 ]; then exit 3; fi; echo fine'
                """, Map.of());
        assertThat(execution.path("status").asText()).isEqualTo("failed");
        assertThat(execution.path("reason").asText()).isEqualTo("failed on 1 of 3 nodes: web3 (step 1 failed: exit code 3 on node web3)");
        assertThat(stdout(execution)).containsExactlyInAnyOrder("web1: fine", "web2: fine");
    }

    @Test
    void passwordAuthenticationFromKeyStorage() {
        JsonNode execution = run("""
                - name: with-password
                  nodefilters:
                    filter: 'name: pw'
                  sequence:
                    commands:
                      - exec: echo logged in with a password
                """, Map.of());
        assertThat(execution.path("status").asText()).as(execution.toString()).isEqualTo("succeeded");
        assertThat(stdout(execution)).containsExactly("pw: logged in with a password");
    }

    @Test
    void eachUnreachableNodeFailsWithItsPreciseReason() {
        JsonNode execution = run("""
                - name: broken-fleet
                  nodefilters:
                    filter: 'tags: broken'
                    dispatch: {threadcount: 6, keepgoing: true}
                  sequence:
                    commands:
                      - exec: sleep 20
                """, Map.of());
        assertThat(execution.path("status").asText()).isEqualTo("failed");
        String reason = execution.path("reason").asText();
        assertThat(reason).startsWith("failed on 6 of 6 nodes: ");
        assertThat(reason).contains("foreign (step 1 failed: node foreign: the key keys/other-project/id is outside keys/project/fleet/;");
        assertThat(reason).contains("wrongkey (step 1 failed: node wrongkey at 127.0.0.1:")
                .contains("authentication as 'deploy' with the private key was refused");
        assertThat(reason).contains("stranger (step 1 failed: node stranger at 127.0.0.1:").contains("is not in " + KNOWN_HOSTS + " (unknown host");
        assertThat(reason).containsPattern("refused \\(step 1 failed: cannot connect to node refused at 127\\.0\\.0\\.1:\\d+: connection refused\\)");
        assertThat(reason).contains("hung (step 1 failed: node hung at 127.0.0.1:").contains("did not complete within 1 s (connect timeout)");
        assertThat(reason).contains("slow (step 1 failed: the command did not finish within 700 ms on node slow (ssh-command-timeout);");
    }

    @Test
    void nodeFirstAndStepFirstOrderNodesByRank() {
        String steps = """
                  sequence:
                    strategy: %s
                    commands:
                      - exec: echo A
                      - exec: echo B
                """;
        JsonNode nodeFirst = run("""
                - name: node-first
                  nodefilters:
                    filter: 'tags: web'
                    dispatch: {rankAttribute: rank}
                """ + steps.formatted("node-first"), Map.of());
        assertThat(stdout(nodeFirst)).containsExactly("web2: A", "web2: B", "web1: A", "web1: B", "web3: A", "web3: B");
        JsonNode stepFirst = run("""
                - name: step-first
                  nodefilters:
                    filter: 'tags: web'
                    dispatch: {rankAttribute: rank}
                """ + steps.formatted("step-first"), Map.of());
        assertThat(stdout(stepFirst)).containsExactly("web2: A", "web1: A", "web3: A", "web2: B", "web1: B", "web3: B");
        JsonNode descending = run("""
                - name: descending
                  nodefilters:
                    filter: 'tags: web'
                    dispatch: {rankAttribute: rank, rankOrder: descending}
                """ + steps.formatted("step-first"), Map.of());
        assertThat(stdout(descending)).containsExactly("web3: A", "web1: A", "web2: A", "web3: B", "web1: B", "web2: B");
    }

    @Test
    void threadcountRunsThatManyNodesAtOnce() throws Exception {
        String job = """
                - name: rendezvous-%s
                  options:
                    - name: dir
                      required: true
                  nodefilters:
                    filter: 'tags: web'
                    dispatch: {threadcount: %s}
                  sequence:
                    commands:
                      - script: |
                          touch "@option.dir@/@node.name@"
                          i=0
                          while [ "$(ls "@option.dir@" | wc -l)" -lt 3 ]; do
                            i=$((i+1)); [ $i -gt 60 ] && echo "alone after 3 s" && exit 7
                            sleep 0.05
                          done
                          echo "all three inside"
                """;
        Path together = Files.createTempDirectory(DIR, "together");
        JsonNode parallel = run(job.formatted("3", "3"), Map.of("dir", together.toString()));
        assertThat(parallel.path("status").asText()).as(parallel.toString()).isEqualTo("succeeded");
        assertThat(stdout(parallel)).hasSize(3).allSatisfy(line -> assertThat(line).endsWith(": all three inside"));

        Path alone = Files.createTempDirectory(DIR, "alone");
        JsonNode serial = run(job.formatted("1", "1"), Map.of("dir", alone.toString()));
        assertThat(serial.path("status").asText()).isEqualTo("failed");
        assertThat(serial.path("reason").asText()).isEqualTo("failed on 1 of 3 nodes: web1 (step 1 failed: exit code 7 on node web1);"
                + " not run (dispatch keepgoing is false) on web2, web3");
        assertThat(stdout(serial)).containsExactly("web1: alone after 3 s");
    }

    @Test
    void withoutDispatchKeepgoingTheOtherNodesDoNotStartAfterAFailure() {
        String job = """
                - name: stop-on-failure-%s
                  nodefilters:
                    filter: 'tags: web'
                    dispatch: {keepgoing: %s}
                  sequence:
                    commands:
                      - exec: 'if [ ${node.name} = web2 ]; then exit 4; fi; echo ran'
                """;
        JsonNode stop = run(job.formatted("no", "false"), Map.of());
        assertThat(stop.path("reason").asText()).isEqualTo("failed on 1 of 3 nodes: web2 (step 1 failed: exit code 4 on node web2);"
                + " not run (dispatch keepgoing is false) on web3");
        assertThat(stdout(stop)).containsExactly("web1: ran");
        JsonNode go = run(job.formatted("yes", "true"), Map.of());
        assertThat(go.path("reason").asText()).isEqualTo("failed on 1 of 3 nodes: web2 (step 1 failed: exit code 4 on node web2)");
        assertThat(stdout(go)).containsExactly("web1: ran", "web3: ran");
    }

    @Test
    void aFilterMatchingNoNodeFailsUnlessEmptyIsASuccess() {
        JsonNode none = run("""
                - name: nowhere
                  nodefilters:
                    filter: 'name: nosuch'
                  sequence:
                    commands:
                      - exec: echo never
                """, Map.of());
        assertThat(none.path("status").asText()).isEqualTo("failed");
        assertThat(none.path("reason").asText()).isEqualTo("no node matches the filter 'name: nosuch'");
        JsonNode fine = run("""
                - name: nowhere-is-fine
                  nodefilters:
                    filter: 'name: nosuch'
                    dispatch: {successOnEmptyNodeFilter: true}
                  sequence:
                    commands:
                      - exec: echo never
                """, Map.of());
        assertThat(fine.path("status").asText()).isEqualTo("succeeded");
    }

    @Test
    void aFilterFromAnOptionIsCheckedWhenTheRunExpandsIt() {
        JsonNode bad = run("""
                - name: option-filter
                  options:
                    - name: where
                  nodefilters:
                    filter: '${option.where}'
                  sequence:
                    commands:
                      - exec: echo on ${node.name}
                """, Map.of("where", "tags: web !name: "));
        assertThat(bad.path("status").asText()).isEqualTo("failed");
        assertThat(bad.path("reason").asText()).startsWith("malformed node filter 'tags: web !name: ' (expanded from '${option.where}'): ");
    }

    @Test
    void aMalformedFilterIsRefusedAtImportWithItsPosition() {
        Api.Reply reply = api.postYaml("/api/v1/projects/fleet/jobs/import", """
                - name: bad-filter
                  nodefilters:
                    filter: 'tags: web name:'
                  sequence:
                    commands:
                      - exec: echo never
                """);
        assertThat(reply.status()).isEqualTo(422);
        assertThat(reply.body()).contains("nodefilters.filter").contains("malformed node filter 'tags: web name:'").contains("position");
    }

    @Test
    void aFailingNodeSourceTurnsTheHealthCheckRedUntilItRecovers() throws Exception {
        Path file = DIR.resolve("other-nodes.yaml");
        Files.writeString(file, "db1: {hostname: 127.0.0.1}\n");
        assertThat(api.post("/api/v1/projects", Map.of("name", "other", "config",
                Map.of("nodeSources", List.of(Map.of("type", "file", "path", file.toString()))))).status()).isEqualTo(201);
        Api admin = new Api("http://127.0.0.1:" + APP.getAdminPort(), null);
        assertThat(api.get("/api/v1/projects/other/nodes").json().path("nodes").toString()).contains("db1");
        assertThat(admin.get("/healthcheck").json().path("nodeSources").path("healthy").asBoolean()).isTrue();
        Files.writeString(file, "db1: [broken\n");
        assertThat(admin.get("/healthcheck").json().path("nodeSources").path("healthy").asBoolean())
                .as("the health check reports the last read; it never reads a source itself").isTrue();
        assertThat(api.get("/api/v1/projects/other/nodes").json().path("nodes").toString()).as("last good nodes").contains("db1");
        Api.Reply red = admin.get("/healthcheck");
        assertThat(red.status()).isEqualTo(500);
        assertThat(red.json().path("nodeSources").path("message").asText()).contains("project other").contains("serving its last 1 good node(s)");
        Files.writeString(file, "db1: {hostname: 127.0.0.1}\n");
        api.get("/api/v1/projects/other/nodes");
        assertThat(admin.get("/healthcheck").json().path("nodeSources").path("healthy").asBoolean()).isTrue();
    }

    @Test
    void aRemoteCommandReadingItsInputSeesEndOfInputAtOnce() {
        JsonNode execution = run("""
                - name: reads-stdin
                  timeout: 20s
                  nodefilters:
                    filter: 'name: web1'
                  sequence:
                    commands:
                      - exec: 'cat; echo "input ended"'
                """, Map.of());
        assertThat(execution.path("status").asText()).as(execution.toString()).isEqualTo("succeeded");
        assertThat(stdout(execution)).containsExactly("web1: input ended");
    }

    @Test
    void aJobrefAsNodeStepRunsTheReferencedJobOnEachNodeAndOneWithItsOwnFilterOverridesTheTarget() {
        Runs.importJob(api, "fleet", """
                - name: child-here
                  sequence:
                    commands:
                      - exec: echo "child on ${node.name}"
                """);
        JsonNode perNode = run("""
                - name: parent-per-node
                  nodefilters:
                    filter: 'tags: web'
                  sequence:
                    commands:
                      - jobref: {name: child-here, nodeStep: true}
                """, Map.of());
        assertThat(perNode.path("status").asText()).as(perNode.toString()).isEqualTo("succeeded");
        assertThat(stdout(perNode)).containsExactly("web1: child on web1", "web2: child on web2", "web3: child on web3");

        JsonNode overridden = run("""
                - name: parent-override
                  sequence:
                    commands:
                      - jobref:
                          name: child-here
                          nodefilters: {filter: 'name: web2'}
                """, Map.of());
        assertThat(overridden.path("status").asText()).as(overridden.toString()).isEqualTo("succeeded");
        assertThat(stdout(overridden)).containsExactly("web2: child on web2");
    }
}
