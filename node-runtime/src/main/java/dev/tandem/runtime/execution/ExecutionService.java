package dev.tandem.runtime.execution;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.tandem.runtime.api.ApiException;
import dev.tandem.runtime.db.Ids;
import dev.tandem.runtime.job.JobDefinition;
import dev.tandem.runtime.job.JobOption;
import dev.tandem.runtime.job.JobRepository;
import dev.tandem.runtime.job.RundeckDuration;
import dev.tandem.runtime.job.StoredJob;
import dev.tandem.runtime.logs.LogEntry;
import dev.tandem.runtime.logs.LogStorage;
import dev.tandem.runtime.logs.LogWriter;
import io.dropwizard.lifecycle.Managed;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts executions on this member and sees them to a final state. The running record is
 * committed (through the site gate) before any step runs, so a passive or fenced site never
 * starts one; a member that restarts marks what it left running {@code incomplete}.
 */
public final class ExecutionService implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutionService.class);
    public static final String MASK = "*****";

    private final ExecutionSettings settings;
    private final ExecutionRepository executions;
    private final LogStorage logs;
    private final Clock clock;
    private final Map<UUID, RunningExecution> running = new ConcurrentHashMap<>();
    private final ExecutorService workers;
    private final ExecutorService streamReaders;
    private final ScheduledExecutorService timers;
    private final WorkflowRunner workflows;
    private final Counter started;
    private final Map<ExecutionStatus, Counter> finished = new EnumMap<>(ExecutionStatus.class);
    private final Timer durations;

    public ExecutionService(ExecutionSettings settings, ExecutionRepository executions, JobRepository jobs, LogStorage logs,
                            MetricRegistry metrics, Clock clock) {
        this.settings = settings;
        this.executions = executions;
        this.logs = logs;
        this.clock = clock;
        this.workers = Executors.newFixedThreadPool(settings.threads(), named("tandem-execution"));
        this.streamReaders = Executors.newCachedThreadPool(named("tandem-stderr"));
        this.timers = Executors.newSingleThreadScheduledExecutor(named("tandem-execution-timer"));
        this.workflows = new WorkflowRunner(new LocalProcessRunner(streamReaders, clock), jobs, clock);
        this.started = metrics.counter("tandem.executions.started");
        for (ExecutionStatus status : ExecutionStatus.values()) {
            if (status != ExecutionStatus.RUNNING) {
                finished.put(status, metrics.counter("tandem.executions." + status.sql()));
            }
        }
        this.durations = metrics.timer("tandem.executions.duration");
        metrics.register("tandem.executions.running", (Gauge<Integer>) running::size);
    }

    @Override
    public void start() {
        try {
            Files.createDirectories(settings.workDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the work folder " + settings.workDir() + ": " + e.getMessage(), e);
        }
        timers.scheduleWithFixedDelay(this::pollAbortRequests, 1, 1, TimeUnit.SECONDS);
    }

    /**
     * Marks what this member left running as incomplete. Called at start, and only on an active
     * site (a passive site's rows change only through replication).
     */
    public List<UUID> recoverAfterRestart() {
        List<UUID> ids = executions.markIncomplete(settings.memberId(),
                "member " + settings.memberId() + " restarted while the execution was running");
        if (!ids.isEmpty()) {
            LOG.warn("Marked {} execution(s) incomplete: member {} restarted while they ran: {}", ids.size(), settings.memberId(), ids);
        }
        return ids;
    }

    /** Records the execution as running and starts it; returns the stored record. */
    public Execution run(StoredJob job, Map<String, String> givenOptions, String user) {
        JobDefinition definition = job.definition();
        if (!definition.executionEnabled()) {
            throw ApiException.conflict("execution is disabled for job '" + definition.fullName() + "' (executionEnabled: false)");
        }
        Map<String, String> options = OptionValues.resolve(definition.options(), givenOptions);
        Set<String> secure = definition.options().stream().filter(JobOption::secure).map(JobOption::name).collect(Collectors.toSet());
        Map<String, Object> shown = new LinkedHashMap<>();
        options.forEach((k, v) -> shown.put(k, secure.contains(k) ? MASK : v));
        Duration timeout = timeoutOf(definition, options);
        UUID id = Ids.next();
        Execution execution = executions.insertRunning(id, job.projectId(), job.id(), definition.fullName(),
                !definition.multipleExecutions(), shown, user, settings.memberId());
        started.inc();
        RunningExecution live = new RunningExecution(id, settings.killGrace());
        running.put(id, live);
        try {
            workers.execute(() -> execute(live, job, definition, options, user, timeout));
        } catch (RejectedExecutionException e) {
            running.remove(id);
            finish(live, ExecutionStatus.INCOMPLETE, "member " + settings.memberId() + " is shutting down");
            throw new ApiException(503, "this member is shutting down; run the job again");
        }
        return execution;
    }

    private static Duration timeoutOf(JobDefinition definition, Map<String, String> options) {
        if (definition.timeout() == null) {
            return null;
        }
        String text = Expansion.expand(definition.timeout(), options);
        try {
            Duration timeout = RundeckDuration.parse(text);
            return timeout.isZero() ? null : timeout;
        } catch (IllegalArgumentException e) {
            throw new ApiException(422, "timeout '" + definition.timeout() + "' expands to '" + text + "': " + e.getMessage(), "timeout");
        }
    }

    private void execute(RunningExecution live, StoredJob job, JobDefinition definition, Map<String, String> options,
                         String user, Duration timeout) {
        long startNanos = System.nanoTime();
        ScheduledFuture<?> timer = timeout == null ? null : timers.schedule(
                () -> live.stop(ExecutionStatus.TIMEDOUT, "timed out after " + timeout.toString().substring(2).toLowerCase()),
                timeout.toMillis(), TimeUnit.MILLISECONDS);
        ExecutionStatus status;
        String reason;
        try (LogWriter log = logs.open(live.id())) {
            log.append(new LogEntry(clock.instant(), settings.nodeName(), "", "tandem", "NORMAL",
                    "execution of '" + definition.fullName() + "' started by " + user + " on member " + settings.memberId()));
            StepResult result;
            try {
                result = workflows.run(definition, options,
                        new WorkflowRunner.Context(live, log, settings.nodeName(), job.project(), settings.workDir()),
                        List.of(job.id().toString()), "");
            } catch (RuntimeException e) {
                LOG.error("Execution {} of job {} failed unexpectedly", live.id(), definition.fullName(), e);
                result = StepResult.failed("internal error: " + e);
            }
            RunningExecution.Stop stop = live.stopRequest();
            if (stop != null) {
                status = stop.status();
                reason = stop.reason();
            } else {
                status = result.success() ? ExecutionStatus.SUCCEEDED : ExecutionStatus.FAILED;
                reason = result.reason();
            }
            log.append(new LogEntry(clock.instant(), settings.nodeName(), "", "tandem", status == ExecutionStatus.SUCCEEDED ? "NORMAL" : "ERROR",
                    "execution " + status.sql() + (reason == null ? "" : ": " + reason)));
        } catch (RuntimeException e) {
            LOG.error("Execution {}: cannot write its log", live.id(), e);
            status = ExecutionStatus.FAILED;
            reason = "log storage failed: " + e.getMessage();
        } finally {
            if (timer != null) {
                timer.cancel(false);
            }
        }
        durations.update(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
        finish(live, status, reason);
    }

    private void finish(RunningExecution live, ExecutionStatus status, String reason) {
        try {
            executions.finish(live.id(), status, reason);
            finished.get(status).inc();
        } catch (RuntimeException e) {
            LOG.error("Execution {} ended {} but its state could not be recorded: {}", live.id(), status.sql(), e.getMessage());
        } finally {
            running.remove(live.id());
        }
    }

    /** Asks the execution to stop; returns true when this member runs it (otherwise its own member picks the request up). */
    public boolean abort(Execution execution, String user) {
        if (execution.status() != ExecutionStatus.RUNNING) {
            throw ApiException.conflict("execution " + execution.id() + " already ended: " + execution.status().sql());
        }
        executions.requestAbort(execution.id(), user);
        RunningExecution live = running.get(execution.id());
        if (live == null) {
            return false;
        }
        live.stop(ExecutionStatus.ABORTED, "aborted by " + user);
        return true;
    }

    public boolean isRunningHere(UUID id) {
        return running.containsKey(id);
    }

    /** Abort requests made through another member reach this one through the database. */
    private void pollAbortRequests() {
        if (running.isEmpty()) {
            return;
        }
        try {
            executions.abortRequests(settings.memberId()).forEach((id, by) -> {
                RunningExecution live = running.get(id);
                if (live != null) {
                    live.stop(ExecutionStatus.ABORTED, "aborted by " + by);
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("Cannot check for abort requests: {}", e.getMessage());
        }
    }

    @Override
    public void stop() throws InterruptedException {
        timers.shutdownNow();
        workers.shutdown();
        running.values().forEach(r -> r.stop(ExecutionStatus.ABORTED, "member " + settings.memberId() + " is shutting down"));
        if (!workers.awaitTermination(settings.killGrace().toMillis() + 5000, TimeUnit.MILLISECONDS)) {
            LOG.warn("{} execution(s) still running at shutdown; they will be marked incomplete at the next start", running.size());
        }
        streamReaders.shutdownNow();
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return task -> {
            Thread t = new Thread(task, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
