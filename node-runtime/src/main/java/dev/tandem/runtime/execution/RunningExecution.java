package dev.tandem.runtime.execution;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live side of one execution on this member: the processes and remote channels it uses now, and whether it was
 * asked to stop (abort or timeout). Stopping kills the whole process tree: children first
 * collected, then all asked to terminate, then killed after a grace period.
 */
final class RunningExecution {
    private static final Logger LOG = LoggerFactory.getLogger(RunningExecution.class);

    record Stop(ExecutionStatus status, String reason) {}

    private final UUID id;
    private final Duration killGrace;
    private final AtomicReference<Stop> stop = new AtomicReference<>();
    private final java.util.Set<Runnable> stoppers = java.util.concurrent.ConcurrentHashMap.newKeySet();

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

    /** Something attached to the execution while a step uses it; detach when the step is done with it. */
    interface Attachment {
        void detach();
    }

    /** The first stop wins: a timeout after an abort stays an abort. Stops everything attached now or later. */
    void stop(ExecutionStatus status, String reason) {
        if (stop.compareAndSet(null, new Stop(status, reason))) {
            stoppers.forEach(Runnable::run);
        }
    }

    /** Registers a step's process (several run at once when nodes run in parallel); if a stop came first, it is killed at once. */
    Attachment attach(Process process, boolean groupLeader) {
        return register(() -> kill(process, groupLeader));
    }

    /** Registers a remote channel or session; a stop closes it. */
    Attachment attach(java.io.Closeable resource) {
        return register(() -> {
            try {
                resource.close();
            } catch (IOException e) {
                LOG.debug("Execution {}: closing {} on stop failed: {}", id, resource, e.getMessage());
            }
        });
    }

    private Attachment register(Runnable stopper) {
        stoppers.add(stopper);
        if (stopping()) {
            stopper.run();
        }
        return () -> stoppers.remove(stopper);
    }

    /** Kills a process that outlived its step (its output could not be handled). */
    void kill(Process process) {
        kill(process, true);
    }

    /**
     * SIGTERM to the step's whole process group (it leads its own session) and to every
     * descendant, then SIGKILL to whatever is left after the grace period.
     */
    private void kill(Process process, boolean group) {
        List<ProcessHandle> tree = process.descendants().toList();
        if (group) {
            signalGroup(process.pid(), "TERM");
        }
        tree.forEach(ProcessHandle::destroy);
        process.destroy();
        Thread killer = new Thread(() -> {
            try {
                if (!process.waitFor(killGrace.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("Execution {}: process {} ignored SIGTERM for {}; killing it", id, process.pid(), killGrace);
                } else {
                    Thread.sleep(Math.min(500, killGrace.toMillis()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (group) {
                signalGroup(process.pid(), "KILL");
            }
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }, "tandem-kill-" + id);
        killer.setDaemon(true);
        killer.start();
    }

    private void signalGroup(long pgid, String signal) {
        try {
            new ProcessBuilder("kill", "-s", signal, "--", "-" + pgid).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            LOG.warn("Execution {}: cannot signal process group {}: {}", id, pgid, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
