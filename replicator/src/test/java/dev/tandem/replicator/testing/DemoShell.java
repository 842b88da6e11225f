package dev.tandem.replicator.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs shell scripts against the two-site demo from the checkout's root, as an operator would:
 * {@code bash -euo pipefail} with the demo's ports and folder in the environment.
 */
public final class DemoShell {
    /** The checkout's root (tests run in a module's folder). */
    public static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** A script's exit status (-1: timed out) and everything it printed. */
    public record Outcome(int exit, String output) {}

    private final Path demoDir;
    private final Map<String, String> environment;

    /** The demo in {@code demoDir} with site a's API on {@code port} and its databases from {@code dbPort}. */
    public DemoShell(Path demoDir, int port, int dbPort) {
        this.demoDir = demoDir;
        this.environment = Map.of("TANDEM_PORT", String.valueOf(port), "TANDEM_DB_PORT", String.valueOf(dbPort),
                "TANDEM_DEMO_DIR", demoDir.toString(), "TANDEM_NO_BUILD", "1");
    }

    public Outcome bash(String script, long timeoutSeconds) throws IOException, InterruptedException {
        Path file = Files.createTempFile(demoDir, "script-", ".sh");
        Files.writeString(file, "set -euo pipefail\n" + script);
        ProcessBuilder pb = new ProcessBuilder("bash", file.toString()).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().putAll(environment);
        Path log = Files.createTempFile(demoDir, "script-", ".log");
        pb.redirectOutput(log.toFile());
        Process process = pb.start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Outcome(-1, Files.readString(log) + "\n(timed out after " + timeoutSeconds + " s)");
        }
        return new Outcome(process.exitValue(), Files.readString(log));
    }
}
