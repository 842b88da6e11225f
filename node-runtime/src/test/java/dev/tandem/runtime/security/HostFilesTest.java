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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Node sources cannot turn the runtime's host files into anyone's reading matter: a project's
 * admins add file sources only from the allowed folders, reads are bounded (no device, no huge
 * file), and a source's status (shown to every reader of the project) says where a document is
 * wrong, never what it holds.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class HostFilesTest {
    static final Path HOST = Machine.tempDir("tandem-host-files");
    static final Path ALLOWED = HOST.resolve("allowed");
    static final String TOKEN_TEXT = "tdm_host-file-secret-5e1f0c9a";
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime("hostfiles",
            ConfigOverride.config("nodes.fileSourceDirs", ALLOWED.toString()),
            ConfigOverride.config("nodes.maxSourceSize", "64KiB"));
    static final String PASSWORD = "a long enough password";
    static Api admin;
    static Api projectAdmin;
    static Api runner;
    static Path tokenFile;

    @BeforeAll
    static void setUp() throws Exception {
        Files.createDirectories(ALLOWED);
        tokenFile = Files.writeString(HOST.resolve("admin-token"), TOKEN_TEXT + "\n");
        admin = RuntimeFixture.api(APP);
        admin.post("/api/v1/projects", Map.of("name", "p"));
        admin.post("/api/v1/groups", Map.of("name", "p-admin", "grants", List.of(Map.of("project", "p", "permission", "admin"))));
        admin.post("/api/v1/groups", Map.of("name", "p-run", "grants", List.of(Map.of("project", "p", "permission", "run"))));
        admin.post("/api/v1/users", Map.of("name", "padmin", "password", PASSWORD, "roles", List.of("p-admin")));
        admin.post("/api/v1/users", Map.of("name", "runner", "password", PASSWORD, "roles", List.of("p-run")));
        projectAdmin = login("padmin");
        runner = login("runner");
    }

    static Api login(String user) {
        return Runs.login(admin, user, PASSWORD);
    }

    static Map<String, Object> fileSource(Path path, String format) {
        return Map.of("nodeSources", List.of(Map.of("type", "file", "path", path.toString(), "format", format)));
    }

    @Test
    void aProjectAdminAddsFileSourcesOnlyFromTheAllowedFolders() throws Exception {
        for (String path : List.of(tokenFile.toString(), "/etc/shadow", ALLOWED + "/../admin-token")) {
            Api.Reply refused = projectAdmin.put("/api/v1/projects/p/config",
                    Map.of("nodeSources", List.of(Map.of("type", "file", "path", path))));
            assertThat(refused.status()).as(path).isEqualTo(403);
            assertThat(refused.json().path("error").asText()).isEqualTo("missing role 'admin', needed to configure a file node source outside ["
                    + ALLOWED + "] (nodes.fileSourceDirs) (it reads a file of the Tandem host)");
        }
        Path inside = Files.writeString(ALLOWED.resolve("nodes.yaml"), "web-1: {hostname: web-1.example}\n");
        Map<String, Object> config = fileSource(inside, "yaml");
        assertThat(projectAdmin.put("/api/v1/projects/p/config", config).status()).isEqualTo(200);
        assertThat(runner.get("/api/v1/projects/p/nodes").json().path("nodes").findValuesAsText("name")).contains("web-1");
        for (String type : List.of("script", "url")) {
            Map<String, Object> source = type.equals("script") ? Map.of("type", "script", "command", "cat " + tokenFile)
                    : Map.of("type", "url", "url", "http://127.0.0.1:1/nodes");
            assertThat(projectAdmin.put("/api/v1/projects/p/config", Map.of("nodeSources", List.of(source))).status()).as(type).isEqualTo(403);
        }
        assertThat(admin.get("/api/v1/projects/p/config").json().toString()).as("refusals changed nothing").contains(inside.toString());
    }

    @Test
    void aSourcesStatusNeverShowsTheTextOfTheFileItRead() throws Exception {
        Path json = Files.writeString(HOST.resolve("token.json"), TOKEN_TEXT);
        Path keyed = Files.writeString(HOST.resolve("keyed.yaml"), "password: " + TOKEN_TEXT + "\n");
        for (Path file : List.of(tokenFile, json, keyed)) {
            String format = file.toString().endsWith(".json") ? "json" : "yaml";
            assertThat(admin.put("/api/v1/projects/p/config", fileSource(file, format)).status()).isEqualTo(200);
            Api.Reply listed = runner.get("/api/v1/projects/p/nodes");
            assertThat(listed.status()).isEqualTo(200);
            assertThat(listed.body()).as(file.toString()).doesNotContain(TOKEN_TEXT).doesNotContain("host-file-secret");
            JsonNode status = listed.json().path("sources").get(0);
            assertThat(status.path("ok").asBoolean()).isFalse();
            assertThat(status.path("message").asText()).as(file.toString()).matches("cannot read " + java.util.regex.Pattern.quote(file.toString())
                    + ": (expected a map of nodes by name|not valid json at line 1, column \\d+|node 1 of the document must be a map of attributes)"
                    + "; serving the last good \\d+ node\\(s\\)");
        }
    }

    @Test
    void aBacktrackingFilterFromAReaderIsCutShortNotLeftSpinning() {
        long started = System.nanoTime();
        Api.Reply reply = runner.get("/api/v1/projects/p/nodes?filter=" + java.net.URLEncoder.encode("name:(((.+)+)+)+X",
                java.nio.charset.StandardCharsets.UTF_8));
        assertThat(reply.status()).isEqualTo(422);
        assertThat(reply.json().path("error").asText()).startsWith("the regular expression '(((.+)+)+)+X' needs more than 5000000 steps");
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - started)).isLessThan(Machine.deadline(java.time.Duration.ofSeconds(5)));
        assertThat(runner.get("/api/v1/projects/p/nodes?filter=name:.*").status()).isEqualTo(200);
    }

    @Test
    void aDeviceOrAFilePastTheLimitIsRefusedUnread() throws Exception {
        Path big = HOST.resolve("big.yaml");
        Files.writeString(big, "web-1: {hostname: h, pad: '" + "x".repeat(70 * 1024) + "'}\n");
        for (Path file : List.of(Path.of("/dev/zero"), big)) {
            assertThat(admin.put("/api/v1/projects/p/config", fileSource(file, "yaml")).status()).isEqualTo(200);
            JsonNode status = runner.get("/api/v1/projects/p/nodes").json().path("sources").get(0);
            assertThat(status.path("message").asText()).as(file.toString()).startsWith("cannot read " + file + ": ")
                    .containsAnyOf("not a regular file", "the document is larger than the limit of 65536 bytes (nodes.maxSourceSize)");
        }
        assertThat(admin.get("/api/v1/projects").status()).isEqualTo(200);
    }
}
