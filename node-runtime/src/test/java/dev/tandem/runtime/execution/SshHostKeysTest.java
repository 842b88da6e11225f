package dev.tandem.runtime.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.keys.KeyStore;
import dev.tandem.runtime.keys.KeyType;
import dev.tandem.runtime.logs.LogEntry;
import dev.tandem.runtime.logs.LogWriter;
import dev.tandem.runtime.nodes.Node;
import dev.tandem.runtime.testing.SshNodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Host-key policies and stopping a remote command, on the SSH runner itself against real SSH servers. */
class SshHostKeysTest {
    static final SshNodes SSH = new SshNodes();
    static final SshNodes.Server SERVER = SSH.start();

    @AfterAll
    static void stop() {
        SSH.close();
    }

    private static SshNodeRunner runner(Path knownHosts, boolean acceptNew) {
        byte[] key = SshNodes.pem(SSH.clientKey());
        return new SshNodeRunner(new SshSettings(knownHosts, acceptNew, Duration.ofSeconds(3), Duration.ZERO, "/tmp", new dev.tandem.runtime.keys.KeyScope(List.of())),
                path -> Optional.of(new KeyStore.Secret(KeyType.PRIVATE, key)), new MetricRegistry(), Clock.systemUTC());
    }

    private static Node node(int port) {
        return new Node("n1", Map.of("hostname", "127.0.0.1:" + port, "username", SshNodes.USER, "ssh-key-storage-path", "keys/project/p/k"), Set.of());
    }

    private static final class Lines implements LogWriter {
        final List<String> lines = new CopyOnWriteArrayList<>();

        @Override
        public void append(LogEntry entry) {
            lines.add(entry.log());
        }

        @Override
        public void close() {}
    }

    @Test
    void acceptNewRemembersAnUnknownHostAndStrictRefusesIt() throws Exception {
        Path knownHosts = Machine.tempDir("kh").resolve("ssh/known_hosts");
        RunningExecution execution = new RunningExecution(UUID.randomUUID(), Duration.ofSeconds(1));
        try (SshNodeRunner strict = runner(knownHosts, false); SshNodeRunner.Sessions sessions = strict.sessions(project -> Map.of())) {
            assertThatThrownBy(() -> strict.exec(sessions, "p", node(SERVER.port()), "true", Map.of(), execution, "1", new Lines()))
                    .hasMessageContaining("is not in " + knownHosts + " (unknown host");
        }
        assertThat(knownHosts).doesNotExist();
        Lines out = new Lines();
        try (SshNodeRunner acceptNew = runner(knownHosts, true); SshNodeRunner.Sessions sessions = acceptNew.sessions(project -> Map.of())) {
            assertThat(acceptNew.exec(sessions, "p", node(SERVER.port()), "echo first contact", Map.of(), execution, "1", out)).isZero();
        }
        assertThat(out.lines).containsExactly("first contact");
        assertThat(Files.readString(knownHosts)).contains("[127.0.0.1]:" + SERVER.port());
        try (SshNodeRunner strict = runner(knownHosts, false); SshNodeRunner.Sessions sessions = strict.sessions(project -> Map.of())) {
            assertThat(strict.exec(sessions, "p", node(SERVER.port()), "exit 5", Map.of(), execution, "1", new Lines()))
                    .as("now known, strict checking accepts it and the exit code comes back").isEqualTo(5);
        }
    }

    @Test
    void aChangedHostKeyIsRefusedEvenWithAcceptNew() throws Exception {
        Path knownHosts = Machine.tempDir("kh-changed").resolve("known_hosts");
        SshNodes.Server impostor = SSH.start();
        String otherKey = SERVER.knownHostsLine().substring(SERVER.knownHostsLine().indexOf(' ') + 1);
        Files.writeString(knownHosts, "[127.0.0.1]:" + impostor.port() + " " + otherKey + "\n");
        RunningExecution execution = new RunningExecution(UUID.randomUUID(), Duration.ofSeconds(1));
        try (SshNodeRunner runner = runner(knownHosts, true); SshNodeRunner.Sessions sessions = runner.sessions(project -> Map.of())) {
            assertThatThrownBy(() -> runner.exec(sessions, "p", node(impostor.port()), "true", Map.of(), execution, "1", new Lines()))
                    .hasMessageContaining("the host key CHANGED");
        }
        assertThat(Files.readString(knownHosts)).as("the known key is not replaced").isEqualTo("[127.0.0.1]:" + impostor.port() + " " + otherKey + "\n");
    }

    @Test
    void stoppingTheExecutionEndsTheRemoteCommandAtOnce() throws Exception {
        Path knownHosts = Machine.tempDir("kh-stop").resolve("known_hosts");
        Files.writeString(knownHosts, SERVER.knownHostsLine() + "\n");
        RunningExecution execution = new RunningExecution(UUID.randomUUID(), Duration.ofSeconds(1));
        Lines out = new Lines();
        try (SshNodeRunner runner = runner(knownHosts, false); SshNodeRunner.Sessions sessions = runner.sessions(project -> Map.of())) {
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
                try {
                    return runner.exec(sessions, "p", node(SERVER.port()), "echo started; sleep 30", Map.of(), execution, "1", out);
                } catch (SshNodeRunner.NodeException e) {
                    throw new IllegalStateException(e);
                }
            });
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> out.lines.contains("started"));
            long stopped = System.nanoTime();
            execution.stop(ExecutionStatus.ABORTED, "aborted by test");
            assertThat(exit.get(5, TimeUnit.SECONDS)).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - stopped)).isLessThan(Duration.ofSeconds(3));
        }
    }
}
