package dev.tandem.runtime.nodes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A script whose standard output is a resource model (Rundeck YAML or JSON). It runs at most
 * once per cache period, is killed at its timeout, and a failing run keeps serving the last good
 * nodes with the failure in the source's status.
 */
public final class ScriptNodeSource implements NodeSource {
    private final String command;
    private final String format;
    private final Duration timeout;
    private final Duration cache;
    private long readAtNanos;
    private boolean read;
    private List<Node> lastGood = List.of();
    private Status status;

    public ScriptNodeSource(String command, String format, Duration timeout, Duration cache) {
        this.command = command;
        this.format = format;
        this.timeout = timeout;
        this.cache = cache;
        this.status = new Status(describe(), false, "not run yet", 0);
    }

    @Override
    public synchronized List<Node> nodes() {
        if (read && System.nanoTime() - readAtNanos < cache.toNanos()) {
            return lastGood;
        }
        read = true;
        readAtNanos = System.nanoTime();
        try {
            ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-c", command).redirectError(ProcessBuilder.Redirect.DISCARD);
            // Like a step, the script never sees the runtime's own environment (database password, tokens).
            java.util.Map<String, String> env = builder.environment();
            java.util.Map<String, String> kept = new java.util.HashMap<>();
            for (String name : List.of("PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER")) {
                if (env.get(name) != null) {
                    kept.put(name, env.get(name));
                }
            }
            env.clear();
            env.putAll(kept);
            Process process = builder.start();
            process.getOutputStream().close();
            byte[][] out = new byte[1][];
            Thread reader = new Thread(() -> {
                try {
                    out[0] = process.getInputStream().readAllBytes();
                } catch (IOException e) {
                    out[0] = new byte[0];
                }
            }, "node-source-script");
            reader.setDaemon(true);
            reader.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new IllegalStateException("timed out after " + timeout.toMillis() / 1000.0 + " s");
            }
            reader.join(timeout.toMillis());
            if (process.exitValue() != 0) {
                throw new IllegalStateException("exit code " + process.exitValue());
            }
            List<Node> nodes = ResourceModel.parse(new String(out[0] == null ? new byte[0] : out[0], StandardCharsets.UTF_8), format);
            lastGood = List.copyOf(nodes);
            status = new Status(describe(), true, "read " + nodes.size() + " node(s)", nodes.size());
        } catch (IOException | RuntimeException e) {
            status = new Status(describe(), false, "script failed: " + e.getMessage() + "; serving the last good " + lastGood.size() + " node(s)", lastGood.size());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return lastGood;
    }

    @Override
    public synchronized Status status() {
        return status;
    }

    private String describe() {
        return "script `" + command + "` (" + format + ")";
    }
}
