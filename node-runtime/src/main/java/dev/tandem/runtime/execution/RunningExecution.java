package dev.tandem.runtime.execution;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live side of one execution on this member: the process it runs now, and whether it was
 * asked to stop (abort or timeout). Stopping kills the whole process tree: children first
 * collected, then all asked to terminate, then killed after a grace period.
 */
final class RunningExecution {
    private static final Logger LOG = LoggerFactory.getLogger(RunningExecution.class);

    record Stop(ExecutionStatus status, String reason) {}

    private final UUID id;
    private final Duration killGrace;
    private final AtomicReference<Stop> stop = new AtomicReference<>();
    private final Object processLock = new Object();
    private Process current;

    RunningExecution(UUID id, Duration killGrace) {
        this.id = id;
        this.killGrace = killGrace;
    }

    UUID id() {
        return id;
    }

    Stop stopRequest() {
        return stop.get();
    }

    boolean stopping() {
        return stop.get() != null;
    }

    /** The first stop wins: a timeout after an abort stays an abort. */
    void stop(ExecutionStatus status, String reason) {
        if (stop.compareAndSet(null, new Stop(status, reason))) {
            Process process;
            synchronized (processLock) {
                process = current;
            }
            if (process != null) {
                killTree(process);
            }
        }
    }

    /** Registers the step's process; if a stop came first, the process is killed at once. */
    void attach(Process process) {
        synchronized (processLock) {
            current = process;
        }
        if (stopping()) {
            killTree(process);
        }
    }

    void detach() {
        synchronized (processLock) {
            current = null;
        }
    }

    private void killTree(Process process) {
        List<ProcessHandle> tree = process.descendants().toList();
        tree.forEach(ProcessHandle::destroy);
        process.destroy();
        Thread killer = new Thread(() -> {
            try {
                if (!process.waitFor(killGrace.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("Execution {}: process {} ignored SIGTERM for {}; killing it", id, process.pid(), killGrace);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }, "tandem-kill-" + id);
        killer.setDaemon(true);
        killer.start();
    }
}
