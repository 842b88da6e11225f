package dev.tandem.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.scp.server.ScpCommandFactory;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.shell.ProcessShellFactory;

/**
 * Benchmark: a two-step job (an exec and an uploaded script) on N SSH nodes, run with
 * threadcount 1 and 10. The nodes are real SSH servers (Apache MINA SSHD) on loopback ports in
 * this JVM, each running commands as processes through /bin/sh, as sshd does. Prints the wall
 * time of each run (the execution's own duration) and the runtime's per-node connection set-up
 * time (its {@code tandem.ssh.connect} timer); the last line is JSON. The script has no shebang, so it
 * runs as {@code /bin/sh file}: with all 50 "nodes" forking inside one JVM, executing a file that
 * another node's SCP upload has just written can fail with ETXTBSY (exit 126), an artifact of
 * this harness (JDK-8068370), not of separate hosts.
 *
 * <p>Usage: SshFanout baseUrl adminUrl token knownHostsFile workDir nodes runs
 */
public final class SshFanout {
    private static final ObjectMapper JSON = BenchApi.JSON;
    private final BenchApi api;
    private final String base;

    private SshFanout(String base, String token) {
        this.base = base;
        this.api = new BenchApi(token);
    }

    public static void main(String[] args) throws Exception {
        String base = args[0];
        String admin = args[1];
        SshFanout bench = new SshFanout(base, args[2]);
        Path knownHosts = Path.of(args[3]);
        Path work = Path.of(args[4]);
        int nodes = Integer.parseInt(args[5]);
        int runs = Integer.parseInt(args[6]);

        KeyPair client = generate();
        List<SshServer> servers = new ArrayList<>();
        StringBuilder known = new StringBuilder();
        StringBuilder model = new StringBuilder();
        for (int i = 1; i <= nodes; i++) {
            KeyPair host = generate();
            SshServer sshd = SshServer.setUpDefaultServer();
            sshd.setHost("127.0.0.1");
            sshd.setPort(0);
            org.apache.sshd.core.CoreModuleProperties.TCP_NODELAY.set(sshd, true);
        sshd.setKeyPairProvider(KeyPairProvider.wrap(host));
            sshd.setPublickeyAuthenticator((user, key, session) -> KeyUtils.compareKeys(key, client.getPublic()));
            sshd.setCommandFactory(new ScpCommandFactory.Builder()
                    .withDelegate((channel, command) -> new ProcessShellFactory(command, "/bin/sh", "-c", command).createShell(channel)).build());
            sshd.start();
            servers.add(sshd);
            known.append("[127.0.0.1]:").append(sshd.getPort()).append(' ').append(PublicKeyEntry.toString(host.getPublic())).append('\n');
            model.append(String.format("node%02d: {hostname: '127.0.0.1:%d', username: bench, tags: fleet}%n", i, sshd.getPort()));
        }
        Files.writeString(knownHosts, known);
        Path nodesFile = work.resolve("nodes.yaml");
        Files.writeString(nodesFile, model);

        bench.send("POST", "/api/v1/projects", JSON.writeValueAsString(Map.of("name", "fleet", "config", Map.of(
                "nodeSources", List.of(Map.of("type", "file", "path", nodesFile.toString())),
                "ssh", Map.of("keyStoragePath", "keys/project/fleet/id")))), "application/json");
        ByteArrayOutputStream pem = new ByteArrayOutputStream();
        OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(client, "bench", null, pem);
        bench.sendBytes("/api/v1/storage/keys/project/fleet/id", pem.toByteArray());

        Map<String, Object> result = new LinkedHashMap<>();
        result.put("nodes", nodes);
        result.put("runsPerSetting", runs);
        for (int threads : List.of(1, 10)) {
            String job = bench.importJob(threads);
            bench.runOnce(job, nodes); // warm-up
            List<Long> walls = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                walls.add(bench.runOnce(job, nodes));
            }
            Collections.sort(walls);
            System.err.printf("threadcount %d: wall times %s ms%n", threads, walls);
            result.put("threadcount" + threads + "WallMsP50", walls.get(walls.size() / 2));
            result.put("threadcount" + threads + "WallMsMax", walls.get(walls.size() - 1));
        }
        JsonNode timer = bench.api.get(admin + "/metrics").path("timers").path("tandem.ssh.connect");
        double unit = timer.path("duration_units").asText("seconds").equals("milliseconds") ? 1 : 1000;
        result.put("connections", timer.path("count").asLong());
        result.put("connectMsP50", Math.round(timer.path("p50").asDouble() * unit * 10) / 10.0);
        result.put("connectMsP99", Math.round(timer.path("p99").asDouble() * unit * 10) / 10.0);
        for (SshServer server : servers) {
            server.stop(true);
        }
        System.out.println(JSON.writeValueAsString(result));
    }

    private String importJob(int threads) throws Exception {
        JsonNode imported = send("POST", "/api/v1/projects/fleet/jobs/import", """
                - name: fanout-%d
                  multipleExecutions: true
                  nodefilters:
                    filter: 'tags: fleet'
                    dispatch: {threadcount: %d, keepgoing: true}
                  sequence:
                    commands:
                      - exec: echo "step 1 on ${node.name}"
                      - script: |
                          echo "step 2 on @node.name@: $(uname -n)"
                """.formatted(threads, threads), "application/yaml");
        return imported.path("jobs").get(0).path("id").asText();
    }

    /** Runs the job once and returns its duration as the runtime recorded it. */
    private long runOnce(String job, int nodes) throws Exception {
        String id = send("POST", "/api/v1/jobs/" + job + "/run", "{}", "application/json").path("id").asText();
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode execution = send("GET", "/api/v1/executions/" + id, null, null);
            String status = execution.path("status").asText();
            if (!status.equals("running") && !status.equals("queued")) {
                if (!status.equals("succeeded")) {
                    throw new IllegalStateException("run " + id + " ended " + status + ": " + execution.path("reason").asText());
                }
                return execution.path("durationMillis").asLong();
            }
            Thread.sleep(20); // polling interval of the bench client, not synchronisation of a test
        }
        throw new IllegalStateException("run " + id + " did not finish within 10 minutes on " + nodes + " nodes");
    }

    private JsonNode send(String method, String path, String body, String type) throws Exception {
        return api.send(method, base + path, body, type);
    }

    private void sendBytes(String path, byte[] body) throws Exception {
        api.sendBytes(base + path, "application/octet-stream", body);
    }

    private static KeyPair generate() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }
}
