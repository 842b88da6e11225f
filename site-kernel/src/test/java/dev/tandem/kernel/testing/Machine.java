package dev.tandem.kernel.testing;

import dev.tandem.kernel.db.EmbeddedPostgresServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** What a test needs from the machine it runs on: deadlines scaled to its speed, free ports, temporary folders. */
public final class Machine {
    private Machine() {}

    /** {@code base} times TANDEM_TEST_SLOWNESS (1 when unset): a liveness deadline that scales with the machine. */
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
                deleteQuietly(EmbeddedPostgresServer.logOf(dir)); // when the folder held a database
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

}
