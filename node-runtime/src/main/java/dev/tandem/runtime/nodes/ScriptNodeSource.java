package dev.tandem.runtime.nodes;

import dev.tandem.runtime.process.ProcessEnvironment;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A script whose standard output is a resource model (Rundeck YAML or JSON). It runs at most
 * once per cache period, is killed at its timeout, and a failing run keeps serving the last good
 * nodes with the failure in the source's status.
 */
public final class ScriptNodeSource extends LastGoodNodeSource {
    private final String command;
    private final String format;
    private final Duration timeout;

    private final long maxBytes;

    public ScriptNodeSource(String command, String format, Duration timeout, Duration cache, long maxBytes) {
        super("script `" + command + "` (" + format + ")", "script failed", cache);
        this.maxBytes = maxBytes;
        this.command = command;
        this.format = format;
        this.timeout = timeout;
    }

    @Override
    protected Optional<List<Node>> read() throws Exception {
        // Like a step, the script never sees the runtime's own environment (database password, tokens).
        Process process = ProcessEnvironment.restrict(
                new ProcessBuilder("/bin/sh", "-c", command).redirectError(ProcessBuilder.Redirect.DISCARD), Map.of()).start();
        process.getOutputStream().close();
        String[] out = new String[1];
        IOException[] failed = new IOException[1];
        Thread reader = new Thread(() -> {
            try (java.io.InputStream in = process.getInputStream()) {
                out[0] = ResourceModel.readBounded(in, maxBytes);
            } catch (IOException e) {
                failed[0] = e;
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
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
        if (failed[0] != null) {
            throw failed[0];
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException("exit code " + process.exitValue());
        }
        return Optional.of(ResourceModel.parse(out[0] == null ? "" : out[0], format));
    }
}
