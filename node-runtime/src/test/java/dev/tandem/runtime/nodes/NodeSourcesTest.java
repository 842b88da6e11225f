package dev.tandem.runtime.nodes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.kernel.testing.Machine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Rundeck resource model files as a node source: formats, reloads, and a broken file keeping the last good nodes. */
class NodeSourcesTest {

    @Test
    void rundeckResourceYamlAndJsonParse() {
        List<Node> yaml = ResourceModel.parse("""
                web-1:
                  hostname: 10.0.0.1
                  username: deploy
                  tags: web, prod
                  osFamily: unix
                db-1:
                  hostname: 10.0.0.3
                  tags: [db, prod]
                  rack: r7
                """, "yaml");
        assertThat(yaml).extracting(Node::name).containsExactly("web-1", "db-1");
        assertThat(yaml.get(0).tags()).containsExactlyInAnyOrder("web", "prod");
        assertThat(yaml.get(1).attribute("rack")).isEqualTo("r7");
        List<Node> json = ResourceModel.parse("[{\"nodename\": \"x\", \"hostname\": \"h\", \"tags\": \"a\"}]", "json");
        assertThat(json.get(0).name()).isEqualTo("x");
        assertThat(json.get(0).tags()).containsExactly("a");
        assertThatThrownBy(() -> ResourceModel.parse("web-1: {username: u}", "yaml")).hasMessage("node 1 of the document has no hostname");
        assertThatThrownBy(() -> ResourceModel.parse("{", "json")).hasMessageStartingWith("not valid json");
    }

    @Test
    void aChangedFileIsReReadAndABrokenOneKeepsTheLastGoodNodes() throws Exception {
        Path file = Machine.tempDir("nodes").resolve("nodes.yaml");
        Files.writeString(file, "a:\n  hostname: h-a\n");
        NodeSources sources = new NodeSources(Node.localHost("runtime"), 1024 * 1024);
        Map<String, Object> config = Map.of("nodeSources", List.of(Map.of("type", "file", "path", file.toString())));
        assertThat(sources.model(config).nodes()).extracting(Node::name).containsExactly("runtime", "a");

        Files.writeString(file, "a:\n  hostname: h-a\nb:\n  hostname: h-b\n  tags: web\n");
        assertThat(sources.model(config).nodes()).extracting(Node::name).containsExactly("runtime", "a", "b");

        Files.writeString(file, "a: [this is: not a node\n");
        NodeSources.Model broken = sources.model(config);
        assertThat(broken.nodes()).extracting(Node::name).as("the last good set").containsExactly("runtime", "a", "b");
        assertThat(broken.sources().get(0).healthy()).isFalse();
        assertThat(broken.sources().get(0).message()).contains("serving the last good 2 node(s)");

        Files.writeString(file, "runtime:\n  hostname: overridden\n");
        NodeSources.Model fixed = sources.model(config);
        assertThat(fixed.sources().get(0).healthy()).isTrue();
        assertThat(fixed.nodes()).hasSize(1);
        assertThat(fixed.nodes().get(0).attribute("hostname")).as("a later source replaces a node of the same name").isEqualTo("overridden");
    }

    @Test
    void aScriptSourceIsReadWithinItsTimeoutAndAFailureKeepsTheLastGoodNodes() throws Exception {
        Path out = Machine.tempDir("script-nodes").resolve("model.yaml");
        Files.writeString(out, "s1:\n  hostname: h1\n  tags: web\n");
        NodeSources sources = new NodeSources(Node.localHost("runtime"), 1024 * 1024);
        Map<String, Object> good = Map.of("nodeSources", List.of(Map.of("type", "script", "command", "cat " + out, "cacheSeconds", 0)));
        assertThat(sources.model(good).nodes()).extracting(Node::name).containsExactly("runtime", "s1");

        Files.writeString(out, "not: [valid\n");
        NodeSources.Model broken = sources.model(good);
        assertThat(broken.nodes()).extracting(Node::name).containsExactly("runtime", "s1");
        assertThat(broken.sources().get(0).message()).startsWith("script failed: not valid yaml");

        Map<String, Object> slow = Map.of("nodeSources", List.of(Map.of("type", "script", "command", "sleep 30", "timeoutSeconds", 1, "cacheSeconds", 0)));
        long started = System.nanoTime();
        NodeSources.Model timedOut = sources.model(slow);
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - started)).isLessThan(java.time.Duration.ofSeconds(10));
        assertThat(timedOut.sources().get(0).healthy()).isFalse();
        assertThat(timedOut.sources().get(0).message()).contains("timed out after 1.0 s");

        Path script = Machine.tempDir("script-env").resolve("env-nodes.sh");
        Files.writeString(script, "printf 'e:\\n  hostname: h\\n  vars: \"%s\"\\n' \"$(env | cut -d= -f1 | sort | tr '\\n' ' ')\"\n");
        Map<String, Object> secretive = Map.of("nodeSources", List.of(Map.of("type", "script", "command", "sh " + script, "cacheSeconds", 0)));
        String seen = sources.model(secretive).nodes().get(1).attribute("vars");
        assertThat(seen.split(" ")).as("the script sees only an allow-list of the environment")
                .allSatisfy(v -> assertThat(v).isIn("PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "SHELL", "TMPDIR", "PWD", "SHLVL", "_", ""));
    }

    @Test
    void badSourceConfigurationIsRefusedWithItsField() {
        assertThat(NodeSources.problem(List.of(Map.of("type", "script")))).get()
                .satisfies(p -> assertThat(p[0]).isEqualTo("nodeSources[0].command"));
        assertThat(NodeSources.problem(List.of(Map.of("type", "ldap")))).get()
                .satisfies(p -> assertThat(p[0]).isEqualTo("nodeSources[0].type"));
        assertThat(NodeSources.problem(List.of(Map.of("type", "file", "path", "relative.yaml")))).get()
                .satisfies(p -> assertThat(p[0]).isEqualTo("nodeSources[0].path"));
        assertThat(NodeSources.problem(List.of(Map.of("type", "file", "path", "/x.yaml", "format", "xml")))).get()
                .satisfies(p -> assertThat(p[1]).contains("not 'xml'"));
        assertThat(NodeSources.problem(List.of(Map.of("type", "file", "path", "/x.yaml")))).isEmpty();
    }
}
