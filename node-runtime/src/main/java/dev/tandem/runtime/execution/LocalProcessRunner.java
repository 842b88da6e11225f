package dev.tandem.runtime.execution;

import dev.tandem.runtime.logs.LogEntry;
import dev.tandem.runtime.logs.LogWriter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/** Runs one command as a process on this host, streaming each line of stdout and stderr to the log. */
final class LocalProcessRunner {
    private final ExecutorService streamReaders;
    private final Clock clock;

    LocalProcessRunner(ExecutorService streamReaders, Clock clock) {
        this.streamReaders = streamReaders;
        this.clock = clock;
    }

    /** Returns the exit code; throws IOException when the command cannot be started. */
    int run(List<String> command, Map<String, String> environment, Path workDir, RunningExecution execution,
            String node, String step, LogWriter log) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        builder.environment().putAll(environment);
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process = builder.start();
        execution.attach(process);
        try {
            Future<?> stderr = streamReaders.submit(() -> pump(process.getErrorStream(), node, step, "stderr", log));
            pump(process.getInputStream(), node, step, "stdout", log);
            int exit = process.waitFor();
            try {
                stderr.get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException("reading stderr failed: " + e.getCause().getMessage(), e.getCause());
            }
            return exit;
        } finally {
            execution.detach();
        }
    }

    private Void pump(InputStream stream, String node, String step, String name, LogWriter log) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                log.append(new LogEntry(clock.instant(), node, step, name, "NORMAL", line));
            }
        } catch (IOException e) {
            // The stream closes when the process is killed; what was read is already logged.
        }
        return null;
    }
}
