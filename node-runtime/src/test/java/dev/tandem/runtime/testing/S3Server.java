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
import java.util.List;

/**
 * A real S3-compatible server (Adobe S3Mock) started once per test JVM as its own process, from
 * the classpath the s3mock-server module writes; one bucket, {@value #BUCKET}. Its own JVM keeps
 * Spring Boot's libraries away from the runtime's. Like a real S3 it answers only requests signed
 * with its key ({@value #ACCESS_KEY_ID} / {@value #SECRET_ACCESS_KEY}): 403 otherwise.
 */
public final class S3Server {
    public static final String BUCKET = "tandem-logs";
    public static final String ACCESS_KEY_ID = "test";
    public static final String SECRET_ACCESS_KEY = "test";
    private static S3Server shared;

    private final Process process;
    private final int port;

    private final Path root;

    private S3Server(Process process, int port, Path root) {
        this.process = process;
        this.port = port;
        this.root = root;
    }

    /** The JVM's server, started on first use. */
    public static synchronized S3Server shared() {
        if (shared == null) {
            shared = start();
            S3Server server = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.process.destroyForcibly();
                try {
                    server.process.waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                Machine.deleteQuietly(server.root);
                Machine.deleteQuietly(server.root.resolveSibling(server.root.getFileName() + ".log"));
                Machine.deleteQuietly(server.root.resolveSibling(server.root.getFileName() + ".secret"));
            }));
        }
        return shared;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    private static S3Server start() {
        String classpathFile = System.getProperty("tandem.s3mockClasspath", "../s3mock-server/target/classpath.txt");
        try {
            String classpath = Path.of(classpathFile).toAbsolutePath().getParent().resolve("classes") + java.io.File.pathSeparator
                    + Files.readString(Path.of(classpathFile)).trim();
            int http = Machine.freePort();
            int https = Machine.freePort();
            Path root = Files.createTempDirectory("tandem-s3");
            Path log = root.resolveSibling(root.getFileName() + ".log");
            Path secret = Files.writeString(root.resolveSibling(root.getFileName() + ".secret"), SECRET_ACCESS_KEY);
            Process process = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath, "com.adobe.testing.s3mock.S3MockApplication",
                    "--http.port=" + http, "--server.port=" + https, "--silent=true",
                    "--spring.main.sources=dev.tandem.s3mock.SignedRequestsOnly",
                    "--tandem.s3.accessKeyId=" + ACCESS_KEY_ID, "--tandem.s3.secretKeyFile=" + secret,
                    "--com.adobe.testing.s3mock.store.root=" + root,
                    "--com.adobe.testing.s3mock.store.initial-buckets=" + BUCKET,
                    "--com.adobe.testing.s3mock.max-payload-size=64MB"))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            S3Server server = new S3Server(process, http, root);
            server.awaitReady(Duration.ofSeconds(90), log);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the S3 test server (build the s3mock-server module first: mvn -pl node-runtime -am): "
                    + e.getMessage(), e);
        }
    }

    private void awaitReady(Duration within, Path log) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        try {
            org.awaitility.Awaitility.await().atMost(within).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (!process.isAlive()) {
                    throw new IOException("S3Mock exited with " + process.exitValue() + ": " + Files.readString(log));
                }
                try {
                    // Unsigned, so refused (403) once it serves; 200 if it failed to require signatures.
                    int status = http.send(HttpRequest.newBuilder(URI.create(endpoint() + "/")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode();
                    if (status == 200) {
                        throw new IOException("S3Mock answers unsigned requests: dev.tandem.s3mock.SignedRequestsOnly is not on its classpath");
                    }
                    return status == 403;
                } catch (IOException e) {
                    return false; // not listening yet
                }
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            process.destroyForcibly();
            throw new IOException("S3Mock did not answer within " + within + ": " + Files.readString(log), e);
        }
    }
}
