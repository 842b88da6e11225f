package dev.tandem.runtime.testing;

import dev.tandem.kernel.testing.Machine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A node runtime run as its own process from the packaged jar, so tests can kill it for real
 * (SIGKILL: no goodbye) or stall it (SIGSTOP/SIGCONT).
 */
public final class MemberProcess implements AutoCloseable {
    private final String id;
    private final Path dir;
    private final int port;
    private final int adminPort;
    private final String databaseUrl;
    private Process process;
    private String logsYaml = "{dir: %2$s/logs}";
    private List<String> jvm = List.of("-Xmx256m");
    private String site = "a";

    public MemberProcess(String id, String databaseUrl, int port, int adminPort) {
        this.id = id;
        this.databaseUrl = databaseUrl;
        this.port = port;
        this.adminPort = adminPort;
        this.dir = Machine.tempDir("member-" + id);
    }

    public static Path jar() {
        String jar = System.getProperty("tandem.runtimeJar", "target/node-runtime.jar");
        Path path = Path.of(jar);
        if (!Files.exists(path)) {
            throw new IllegalStateException("the packaged runtime " + path + " is missing: run through 'mvn verify'");
        }
        return path;
    }

    /** The member's {@code logs:} block as a YAML flow map; {@code %2$s} is the member's folder. */
    public MemberProcess withLogs(String flowMap) {
        this.logsYaml = flowMap;
        return this;
    }

    /** The site this member belongs to (default {@code a}). */
    public MemberProcess withSite(String siteId) {
        this.site = siteId;
        return this;
    }

    /** JVM options (heap size first), replacing the default {@code -Xmx256m}. */
    public MemberProcess withJvm(String... options) {
        this.jvm = List.of(options);
        return this;
    }

    public MemberProcess start() {
        try {
            Path config = dir.resolve("runtime.yml");
            Files.writeString(config, """
                    site: {id: %8$s}
                    member: {id: %1$s, name: %1$s, dataDir: %2$s, url: "http://127.0.0.1:%3$d"}
                    database: {url: "%4$s", user: postgres, password: "", maxPoolSize: 6, connectionTimeout: 2s}
                    logs: %7$s
                    execution: {workDir: %2$s/work, threads: 8}
                    api: {maxScheduledFiresPerMinute: 1000000}
                    auth: {bootstrapAdmin: {user: admin, token: "%5$s"}}
                    server:
                      applicationConnectors: [{type: http, bindHost: 127.0.0.1, port: %3$d}]
                      adminConnectors: [{type: http, bindHost: 127.0.0.1, port: %6$d}]
                      requestLog: {appenders: []}
                    logging:
                      level: INFO
                      loggers: {org.flywaydb: WARN, com.zaxxer.hikari: WARN}
                      appenders: [{type: file, currentLogFilename: %2$s/runtime.log, archive: false}]
                    """.formatted(id, dir, port, databaseUrl, RuntimeFixture.ADMIN_TOKEN, adminPort, logsYaml.replace("%2$s", dir.toString()), site));
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            command.addAll(jvm);
            command.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar().toString(), "server", config.toString()));
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("console.log").toFile()).start();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The member is live and not draining ({@code /health/ready}). */
    public boolean ready() {
        return answers200("/health/ready");
    }

    /** Also its site takes writes ({@code /health/ready/active}): active, and not fenced. */
    public boolean readyActive() {
        return answers200("/health/ready/active");
    }

    private boolean answers200(String path) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public Api api() {
        return new Api("http://127.0.0.1:" + port, RuntimeFixture.ADMIN_TOKEN);
    }

    public String id() {
        return id;
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL: the member gets no chance to say goodbye. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    public void signal(String signal) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-s", signal, String.valueOf(process.pid())).start().waitFor();
    }

    public String log() {
        try {
            return Files.readString(dir.resolve("runtime.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
