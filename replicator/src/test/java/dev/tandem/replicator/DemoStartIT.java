package dev.tandem.replicator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.testing.Machine;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code ./tandem demo} that cannot start says which part failed and where, stops everything it
 * started, and exits non-zero: here site b's runtime finds its port taken, while the witness and
 * site a's runtime (with its embedded database) it started alongside are running.
 */
class DemoStartIT {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** Processes of this demo: its folder on their command line (databases, witness) or in their environment (the JVMs). */
    static List<String> processesOf(Path demoDir) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.pid() != ProcessHandle.current().pid())
                .filter(p -> p.info().commandLine().map(c -> c.contains(demoDir.toString())).orElse(false) || environmentNames(p, demoDir))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList();
    }

    static boolean environmentNames(ProcessHandle p, Path demoDir) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", String.valueOf(p.pid()), "environ")), java.nio.charset.StandardCharsets.UTF_8)
                    .contains("TANDEM_DEMO_DIR=" + demoDir + "\0");
        } catch (java.io.IOException | RuntimeException gone) {
            return false;
        }
    }

    @Test
    void aComponentThatCannotStartMakesTheDemoExitNamingItAndLeavesNoProcessBehind() throws Exception {
        Path demoDir = Machine.tempDir("tandem-demo-failure");
        int port = 24080;
        try (ServerSocket taken = new ServerSocket(port + 10, 1, InetAddress.getLoopbackAddress())) {
            ProcessBuilder pb = new ProcessBuilder("./tandem", "demo", "--detach").directory(ROOT.toFile()).redirectErrorStream(true);
            pb.environment().putAll(java.util.Map.of("TANDEM_PORT", String.valueOf(port), "TANDEM_DB_PORT", "54440",
                    "TANDEM_DEMO_DIR", demoDir.toString(), "TANDEM_NO_BUILD", "1"));
            Path log = Files.createTempFile(demoDir, "demo-", ".log");
            pb.redirectOutput(log.toFile());
            Process demo = pb.start();
            assertThat(demo.waitFor(Machine.deadline(Duration.ofSeconds(300)).toSeconds(), TimeUnit.SECONDS))
                    .as("the demo gave up").isTrue();
            String output = Files.readString(log);
            assertThat(demo.exitValue()).as(output).isNotZero();
            assertThat(output).contains("tandem: the demo did not start: site b's runtime exited during start")
                    .contains("Address already in use")
                    .contains("stopping what was started");
            assertThat(output).doesNotContain("Tandem is running");
            // What it had started (witness, site a's runtime and both databases) is gone.
            await().atMost(Machine.deadline(Duration.ofSeconds(30))).until(() -> processesOf(demoDir).isEmpty());
        } finally {
            processesOf(demoDir).forEach(p -> ProcessHandle.of(Long.parseLong(p.split(" ")[0])).ifPresent(ProcessHandle::destroyForcibly));
            Machine.deleteQuietly(demoDir);
        }
    }
}
