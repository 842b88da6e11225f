package dev.tandem.replicator.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A replicator run as a real process of the packaged jar, so a test can SIGKILL it. */
public final class ReplicatorProcess implements AutoCloseable {
    private final TwoSites sites;
    private final String site;
    private final String dbUrl;
    private final String transport;
    private final String kafka;
    private final String peers;
    private final String sources;
    private final int port;
    private final int adminPort = TwoSites.portForAProcess();
    private String extra = "";
    private Process process;
    private Path log;

    public ReplicatorProcess(TwoSites sites, String site, String dbUrl, String transport, String kafka, String peers, String sources) {
        this(sites, site, dbUrl, transport, kafka, peers, sources, TwoSites.portForAProcess());
    }

    public ReplicatorProcess(TwoSites sites, String site, String dbUrl, String transport, String kafka, String peers, String sources,
                             int port) {
        this.port = port;
        this.sites = sites;
        this.site = site;
        this.dbUrl = dbUrl;
        this.transport = transport;
        this.kafka = kafka;
        this.peers = peers;
        this.sources = sources;
    }

    public static Path jar() {
        String jar = System.getProperty("tandem.replicatorJar");
        if (jar == null || !Files.exists(Path.of(jar))) {
            throw new IllegalStateException("tandem.replicatorJar does not name the packaged replicator (run through mvn verify): " + jar);
        }
        return Path.of(jar);
    }

    /** Extra top-level configuration (e.g. a failover block). */
    public ReplicatorProcess withExtra(String yaml) {
        this.extra = yaml;
        return this;
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Starts (again) on the same port and configuration. */
    public ReplicatorProcess start() {
        log = sites.dir().resolve("replicator-" + site + "-" + port + "-" + System.nanoTime() + ".log");
        Path config = sites.config(site, dbUrl, transport, kafka, peers, sources, port, adminPort,
                "level: INFO\n  loggers:\n    org.apache.kafka: WARN\n    io.debezium: WARN\n  appenders: [{type: file, currentLogFilename: " + log + ", archive: false}]",
                extra);
        try {
            process = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar().toString(), "server", config.toString()))
                    .redirectErrorStream(true).redirectOutput(log.resolveSibling(log.getFileName() + ".console").toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** POSTs one of its admin tasks (e.g. {@code switchover?to=b}) and returns the output. */
    public String task(String task) {
        try {
            return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + adminPort + "/tasks/" + task))
                    .header("Authorization", "Bearer " + TwoSites.TOKEN).timeout(java.time.Duration.ofSeconds(90)).POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body().trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The /status document, or null while the process does not answer. */
    public String status() {
        try {
            return TwoSites.http(url() + "/status", TwoSites.TOKEN);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** SIGKILL: no shutdown hook, no goodbye. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    public String log() {
        try {
            return Files.readString(log);
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
