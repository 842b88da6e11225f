package dev.tandem.runtime.execution;

import dev.tandem.runtime.logs.LogEntry;
import dev.tandem.runtime.logs.LogWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.tandem.runtime.process.ProcessEnvironment;
/**
 * Runs one command as a process on this host, streaming each line of stdout and stderr to the
 * log. The process starts in its own session ({@code setsid}) so a stop reaches every process it
 * started, even those that left the tree; it sees only a small allow-list of this runtime's
 * environment (never the database password or the admin token) plus the step's own variables.
 */
final class LocalProcessRunner {
    static final int MAX_LINE_CHARS = 64 * 1024;
    private static final Path SETSID = Path.of("/usr/bin/setsid");

    private final ExecutorService streamReaders;
    private final Clock clock;
    private final Duration drainGrace;
    private final boolean ownSession = Files.isExecutable(SETSID);

    private final StepUser user;

    /** @param user the user processes run as; null: the runtime's own */
    LocalProcessRunner(ExecutorService streamReaders, Clock clock, Duration drainGrace, StepUser user) {
        this.user = user;
        this.streamReaders = streamReaders;
        this.clock = clock;
        this.drainGrace = drainGrace;
    }

    /** Returns the exit code; throws IOException when the command cannot be started. */
    int run(List<String> command, Map<String, String> environment, Path workDir, RunningExecution execution,
            String node, String step, LogWriter log) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>();
        if (ownSession) {
            argv.add(SETSID.toString());
        }
        argv.addAll(user == null ? command : user.wrap(command));
        ProcessBuilder builder = ProcessEnvironment.restrict(new ProcessBuilder(argv).directory(workDir.toFile()), environment);
        if (user != null) {
            builder.environment().remove("HOME");
            builder.environment().put("USER", user.name());
            builder.environment().put("LOGNAME", user.name());
        }
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process = builder.start();
        RunningExecution.Attachment attachment = execution.attach(process, ownSession);
        boolean finished = false;
        try {
            Future<?> stdout = streamReaders.submit(() -> pump(process.getInputStream(), node, step, "stdout", log));
            Future<?> stderr = streamReaders.submit(() -> pump(process.getErrorStream(), node, step, "stderr", log));
            int exit = process.waitFor();
            // When the process exits the JDK keeps what is buffered and closes the pipes, so a
            // background child still holding them cannot hang the step; this bound is the backstop.
            if (!drained(stdout, stderr)) {
                log.append(new LogEntry(clock.instant(), node, step, "tandem", "WARN",
                        "a background process of step " + step + " still holds its output open; its further output is not captured"));
                process.getInputStream().close();
                process.getErrorStream().close();
            }
            finished = true;
            return exit;
        } finally {
            attachment.detach();
            if (!finished && process.isAlive()) {
                execution.kill(process);
            }
        }
    }

    /** Both streams reached their end within the grace period after the process exited. */
    private boolean drained(Future<?> stdout, Future<?> stderr) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + drainGrace.toNanos();
        for (Future<?> stream : List.of(stdout, stderr)) {
            try {
                stream.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                return false;
            } catch (ExecutionException e) {
                throw new IOException("reading the step's output failed: " + e.getCause().getMessage(), e.getCause());
            }
        }
        return true;
    }

    /** Lines longer than {@link #MAX_LINE_CHARS} bytes are split, so one endless line cannot exhaust memory. */
    private Void pump(InputStream stream, String node, String step, String name, LogWriter log) {
        try (LineOutputStream lines = new LineOutputStream(MAX_LINE_CHARS,
                line -> log.append(new LogEntry(clock.instant(), node, step, name, "NORMAL", line)))) {
            stream.transferTo(lines);
        } catch (IOException e) {
            // The stream closes when the process is killed or abandoned; what was read is logged.
        }
        return null;
    }
}
