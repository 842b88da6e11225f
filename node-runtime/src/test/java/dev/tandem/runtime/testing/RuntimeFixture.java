package dev.tandem.runtime.testing;

import dev.tandem.runtime.TandemApplication;
import dev.tandem.runtime.TandemConfiguration;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.ResourceHelpers;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A node runtime started for real (HTTP, database, log folder), configured like production
 * except for ports and folders. Deadlines in tests scale with {@code TANDEM_TEST_SLOWNESS}.
 */
public final class RuntimeFixture {
    public static final String ADMIN_TOKEN = "tdm_test-admin-token-0123456789abcdefghijklmnopqrstuv";
    public static final String ADMIN_PASSWORD = "correct horse battery staple";

    private RuntimeFixture() {}

    public static Duration deadline(Duration base) {
        String slowness = System.getenv("TANDEM_TEST_SLOWNESS");
        double factor = slowness == null ? 1.0 : Double.parseDouble(slowness);
        return Duration.ofMillis((long) (base.toMillis() * factor));
    }

    /** A loopback port free now (for a server started right after). */
    public static int freePort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket()) {
            socket.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A new temporary directory, deleted when the test JVM exits (databases in it are gigabytes after a run). */
    public static Path tempDir(String prefix) {
        try {
            Path dir = Files.createTempDirectory(prefix);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                deleteQuietly(dir);
                deleteQuietly(dev.tandem.runtime.db.EmbeddedPostgresServer.logOf(dir)); // when the folder held a database
            }));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean postgresRunsIn(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (java.util.stream.Stream<Path> children = Files.list(dir)) {
            return java.util.stream.Stream.concat(java.util.stream.Stream.of(dir), children).anyMatch(folder -> {
                try {
                    long pid = Long.parseLong(Files.readAllLines(folder.resolve("postmaster.pid")).get(0).trim());
                    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                } catch (IOException | RuntimeException e) {
                    return false; // no server there, or its pid file is being written or removed
                }
            });
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
    }

    /**
     * Deletes a directory tree, best effort. A PostgreSQL still running in it, or in a folder
     * directly in it, is waited for first (up to 10 s): shutdown hooks run at once, and the
     * library's own hook may be stopping the server while this one deletes.
     */
    public static void deleteQuietly(Path dir) {
        try {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !postgresRunsIn(dir));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // still running: delete what can be deleted
        }
        // A file that vanishes mid-walk (a database finishing its stop) ends the walk: walk again.
        for (int attempt = 0; attempt < 3 && Files.exists(dir); attempt++) {
            try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException | UncheckedIOException e) {
                // best effort: what is left stays for the next clean-up
            }
        }
    }

    /** A runtime on its own new database. */
    public static DropwizardAppExtension<TandemConfiguration> runtime(String name, ConfigOverride... extra) {
        return runtime(TestPostgres.newDatabase(name), "member-" + name, extra);
    }

    /** A runtime on the given database (several members may share one). */
    public static DropwizardAppExtension<TandemConfiguration> runtime(String databaseUrl, String memberId, ConfigOverride... extra) {
        return runtimeIn(tempDir("tandem-" + memberId), databaseUrl, memberId, extra);
    }

    /** A runtime keeping its data, logs and work folder in {@code dir}. */
    public static DropwizardAppExtension<TandemConfiguration> runtimeIn(Path dir, String databaseUrl, String memberId, ConfigOverride... extra) {
        List<ConfigOverride> overrides = new ArrayList<>(List.of(
                ConfigOverride.config("database.url", databaseUrl),
                ConfigOverride.config("database.user", "postgres"),
                ConfigOverride.config("database.password", ""),
                ConfigOverride.config("member.id", memberId),
                ConfigOverride.config("member.name", memberId),
                ConfigOverride.config("member.dataDir", dir.toString()),
                ConfigOverride.config("logs.dir", dir.resolve("logs").toString()),
                ConfigOverride.config("execution.workDir", dir.resolve("work").toString()),
                ConfigOverride.config("auth.bootstrapAdmin.token", ADMIN_TOKEN),
                ConfigOverride.config("auth.bootstrapAdmin.password", ADMIN_PASSWORD)));
        overrides.addAll(List.of(extra));
        return new DropwizardAppExtension<>(TandemApplication.class, ResourceHelpers.resourceFilePath("test-runtime.yml"),
                overrides.toArray(ConfigOverride[]::new));
    }

    public static Api api(DropwizardAppExtension<TandemConfiguration> app) {
        return new Api("http://127.0.0.1:" + app.getLocalPort(), ADMIN_TOKEN);
    }
}
