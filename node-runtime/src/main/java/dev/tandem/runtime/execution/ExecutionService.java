package dev.tandem.runtime.execution;

import dev.tandem.kernel.loop.Backoff;
import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.tandem.kernel.db.Ids;
import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.job.JobDefinition;
import dev.tandem.runtime.job.JobRepository;
import dev.tandem.runtime.text.RundeckDuration;
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
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.tandem.runtime.text.Expansion;
/**
 * Starts executions on this member and sees them to a final state. The running record is
 * committed (through the site gate) before any step runs, so a passive or fenced site never
 * starts one; a member that restarts marks what it left running {@code incomplete}.
 */
public final class ExecutionService implements Managed {
    /** A final state that could not be recorded (database blip) is tried again, ever more slowly, while this member runs. */
    private static final Backoff FINAL_STATE_RETRY = new Backoff(Duration.ofMillis(250), Duration.ofSeconds(10));
    private static final Logger LOG = LoggerFactory.getLogger(ExecutionService.class);

    private final ExecutionSettings settings;
    private final ExecutionRepository executions;
    private final LogStorage logs;
    private final Clock clock;
    private final Map<UUID, RunningExecution> running = new ConcurrentHashMap<>();
    private final ExecutorService workers;
    private final ExecutorService streamReaders;
    private final ExecutorService nodeThreads;
    private final SshNodeRunner ssh;
    private final ProjectNodes projectNodes;
    private final ScheduledExecutorService timers;
    private final WorkflowRunner workflows;
    /** The user of scheduled executions. */
    static final String SCHEDULER = "scheduler";
    private final OptionValues optionValues;
    private final dev.tandem.kernel.site.SiteGate gate;
    private final dev.tandem.runtime.keys.MasterKeys masterKeys;
    private final Counter started;
    private final Map<ExecutionStatus, Counter> finished = new EnumMap<>(ExecutionStatus.class);
    private final Timer durations;
    private final FinalStateWriter finalStates;

    public ExecutionService(ExecutionSettings settings, ExecutionRepository executions, JobRepository jobs, LogStorage logs,
                            OptionValues optionValues, dev.tandem.kernel.site.SiteGate gate, dev.tandem.runtime.keys.MasterKeys masterKeys,
                            SshSettings sshSettings, java.util.function.Function<String, Optional<dev.tandem.runtime.keys.KeyStore.Secret>> secrets,
                            ProjectNodes projectNodes, JobRefGuard refGuard, MetricRegistry metrics, Clock clock) {
        this.optionValues = optionValues;
        this.masterKeys = masterKeys;
        this.gate = gate;
        this.settings = settings;
        this.executions = executions;
        this.logs = logs;
        this.clock = clock;
        this.workers = Executors.newFixedThreadPool(settings.threads(), named("tandem-execution"));
        this.streamReaders = Executors.newCachedThreadPool(named("tandem-stderr"));
        this.timers = Executors.newSingleThreadScheduledExecutor(named("tandem-execution-timer"));
        this.projectNodes = projectNodes;
        this.nodeThreads = Executors.newCachedThreadPool(named("tandem-node"));
        this.ssh = new SshNodeRunner(sshSettings, secrets, metrics, clock);
        this.workflows = new WorkflowRunner(new LocalProcessRunner(streamReaders, clock, Duration.ofSeconds(5), settings.localSteps().user()),
                ssh, projectNodes, nodeThreads, settings.maxNodeThreads(), jobs, optionValues, refGuard, settings.localSteps(), clock);
        this.started = metrics.counter("tandem.executions.started");
        for (ExecutionStatus status : ExecutionStatus.values()) {
            if (status != ExecutionStatus.RUNNING) {
                finished.put(status, metrics.counter("tandem.executions." + status.sql()));
            }
        }
        this.durations = metrics.timer("tandem.executions.duration");
        this.finalStates = new FinalStateWriter(executions);
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
                "member " + settings.memberId() + " restarted while the execution was running", true);
        if (!ids.isEmpty()) {
            LOG.warn("Marked {} execution(s) incomplete: member {} restarted while they ran: {}", ids.size(), settings.memberId(), ids);
        }
        return ids;
    }

    /**
     * Runs this member stopped while the site refused writes (fenced, lease lapsed) could not record
     * their end; once writes are accepted again, and nothing runs here, they are marked incomplete.
     */
    public List<UUID> settleStoppedRuns(String reason) {
        if (runningHere() > 0) {
            return List.of();
        }
        // Not flagged for a re-run: a run could start between the check above and this update.
        return executions.markIncomplete(settings.memberId(), reason, false);
    }

    /** Records the execution as running and starts it; returns the stored record. */
    public Execution run(StoredJob job, Map<String, String> givenOptions, String user) {
        return start(prepare(job, givenOptions, user));
    }

    /**
     * A scheduled fire prepared outside any transaction (options resolved, payload sealed), to be
     * claimed with {@link #claim} in the caller's transaction (a batch of fires commits at once) and
     * started with {@link #launchClaimed} after that commit.
     */
    public final class ScheduledFire {
        private final StoredJob job;
        private final Instant fireTime;
        private final String target;
        private final Attempt attempt;
        private final String cannotStart;
        private final UUID id = Ids.next();
        private final QueuedPayload payload;
        private Execution claimed;

        private ScheduledFire(StoredJob job, Instant fireTime, String target) {
            this.job = job;
            this.fireTime = fireTime;
            this.target = target;
            Attempt prepared = null;
            String problem = null;
            try {
                prepared = prepare(job, Map.of(), SCHEDULER);
            } catch (Refusal e) {
                problem = "cannot start: " + e.getMessage();
            }
            this.attempt = prepared;
            this.cannotStart = problem;
            this.payload = prepared == null || isLocal() ? null : QueuedPayload.of(Map.of(), prepared.options(), masterKeys, id);
        }

        private boolean isLocal() {
            return target.equals(settings.memberId());
        }
    }

    public ScheduledFire prepareFire(StoredJob job, Instant fireTime, String target) {
        return new ScheduledFire(job, fireTime, target);
    }

    /**
     * In the caller's write transaction: claims (job, fire time) and records the execution
     * (running here, or queued for its target). Empty when the fire time was already claimed, or
     * when it could not start (then it is recorded as missed with the reason).
     */
    public Optional<Execution> claim(org.jdbi.v3.core.Handle h, ScheduledFire fire) {
        fire.claimed = null;
        if (fire.cannotStart != null) {
            recordMissed(h, fire.job, fire.fireTime, fire.cannotStart);
            return Optional.empty();
        }
        if (!claimFire(h, fire.job, fire.fireTime, fire.id)) {
            // Claimed by this very fire when an earlier try committed but its commit was reported
            // as failed (the connection broke): its execution is recorded and must still start.
            fire.claimed = ownEarlierClaim(h, fire).orElse(null);
            return Optional.ofNullable(fire.claimed);
        }
        ExecutionStatus status = fire.isLocal() ? ExecutionStatus.RUNNING : ExecutionStatus.QUEUED;
        Optional<Execution> execution = executions.insert(h, newExecution(fire.id, fire.attempt, status, fire.target, fire.fireTime));
        if (execution.isEmpty()) {
            executions.insertMissed(h, fire.id, fire.job.projectId(), fire.job.id(), fire.attempt.definition().fullName(),
                    settings.memberId(), fire.fireTime,
                    "job '" + fire.attempt.definition().fullName() + "' was still running and does not allow multiple executions");
        } else if (!fire.isLocal()) {
            fire.payload.enqueue(h, fire.id, fire.target);
        }
        fire.claimed = execution.orElse(null);
        return execution;
    }

    private Optional<Execution> ownEarlierClaim(org.jdbi.v3.core.Handle h, ScheduledFire fire) {
        boolean ours = h.createQuery("SELECT execution_id = :id FROM tandem_local.fire_claims WHERE job_id = :job AND fire_time = :fire")
                .bind("id", fire.id).bind("job", fire.job.id()).bind("fire", java.sql.Timestamp.from(fire.fireTime))
                .mapTo(Boolean.class).findOne().orElse(false);
        if (!ours) {
            return Optional.empty();
        }
        return executions.find(h, fire.id).filter(e -> e.status() == (fire.isLocal() ? ExecutionStatus.RUNNING : ExecutionStatus.QUEUED));
    }

    /** After the claiming transaction committed: starts the fires claimed for this member. */
    public void launchClaimed(List<ScheduledFire> fires) {
        for (ScheduledFire fire : fires) {
            if (fire.claimed != null && fire.isLocal()) {
                try {
                    launch(fire.claimed, fire.attempt);
                } catch (Refusal e) {
                    LOG.warn("Scheduled fire of '{}' at {} did not start: {}", fire.attempt.definition().fullName(), fire.fireTime, e.getMessage());
                }
            }
        }
    }

    /** Queues a run for another member (remote execution policy); it picks it up through the database. */
    public Execution queue(StoredJob job, Map<String, String> givenOptions, String user, String target, Instant fireTime) {
        Attempt attempt = prepare(job, givenOptions, user);
        UUID id = Ids.next();
        QueuedPayload payload = QueuedPayload.of(givenOptions, attempt.options(), masterKeys, id);
        return gate.write(h -> {
            Execution execution = executions.insert(h, newExecution(id, attempt, ExecutionStatus.QUEUED, target, fireTime))
                    .orElseThrow(() -> Refusal.conflict("job '" + attempt.definition().fullName()
                            + "' is already running and does not allow multiple executions"));
            payload.enqueue(h, id, target);
            return execution;
        });
    }

    /**
     * Takes the runs queued for this member (oldest first, skipping rows another transaction
     * holds), marks them running in the same transaction, then starts them. Returns how many.
     */
    public int startQueued(JobRepository jobs) {
        List<QueuedPayload.Claimed> claimed = gate.write(h -> {
            List<QueuedPayload.Claimed> rows = QueuedPayload.claim(h, settings.memberId(), 20);
            rows.removeIf(row -> !executions.markRunning(h, row.executionId(), settings.memberId()));
            return rows;
        });
        for (QueuedPayload.Claimed row : claimed) {
            Execution execution = executions.find(row.executionId()).orElseThrow();
            try {
                StoredJob job = jobs.find(String.valueOf(execution.jobId()))
                        .orElseThrow(() -> new Refusal(Refusal.Kind.NOT_FOUND, "job of queued execution " + execution.id() + " was deleted"));
                Attempt attempt = prepare(job, row.options(masterKeys), execution.user());
                launch(execution, new Attempt(attempt.job(), attempt.definition(), attempt.options(), attempt.user(), attempt.timeout(),
                        attempt.retries(), attempt.retryDelay(), execution.attempt(), execution.retryOf()));
            } catch (RuntimeException e) {
                LOG.error("Queued execution {} cannot start on member {}: {}", execution.id(), settings.memberId(), e.getMessage());
                String reason = "cannot start on member " + settings.memberId() + ": " + e.getMessage();
                executions.finish(execution.id(), ExecutionStatus.FAILED, reason);
                logOnly(execution.id(), "ERROR", "execution failed: " + reason);
            }
        }
        return claimed.size();
    }

    /** The next attempt of a run that died with its member, recorded in a transaction and started after it commits. */
    public static final class Rerun {
        private final Execution execution;
        private final Attempt attempt;
        private final UUID previous;

        private Rerun(Execution execution, Attempt attempt, UUID previous) {
            this.execution = execution;
            this.attempt = attempt;
            this.previous = previous;
        }

        public Execution execution() {
            return execution;
        }
    }

    /**
     * In the caller's write transaction: records the next attempt of {@code previous} (a run that
     * died with its member) as running on this member, if the job's retries allow one; empty when
     * they are used up. A job that cannot run now (disabled, options no longer valid, another
     * execution running where multiple executions are not allowed) throws {@link Refusal}.
     * Start the attempt with {@link #launchRerun} once the transaction committed.
     */
    public Optional<Rerun> claimRerun(org.jdbi.v3.core.Handle h, StoredJob job, Map<String, String> options, Execution previous) {
        Attempt first = prepare(job, options, previous.user());
        if (previous.attempt() > first.retries()) {
            return Optional.empty();
        }
        UUID origin = previous.retryOf() == null ? previous.id() : previous.retryOf();
        Attempt attempt = new Attempt(first.job(), first.definition(), first.options(), first.user(), first.timeout(),
                first.retries(), first.retryDelay(), previous.attempt() + 1, origin);
        Execution execution = executions.insert(h, newExecution(Ids.next(), attempt, ExecutionStatus.RUNNING, settings.memberId(), null))
                .orElseThrow(() -> Refusal.conflict("job '" + attempt.definition().fullName()
                        + "' is already running and does not allow multiple executions"));
        return Optional.of(new Rerun(execution, attempt, previous.id()));
    }

    /**
     * After the transaction of {@link #claimRerun} committed: starts the attempt here. If this member
     * is shutting down, the attempt is recorded incomplete (it never ran) and the run it follows is
     * pending its re-run again, for a member that stays.
     */
    public void launchRerun(Rerun rerun) {
        try {
            launch(rerun.execution, rerun.attempt);
        } catch (Refusal e) {
            executions.flagRerun(rerun.previous);
            throw e;
        }
    }

    public Optional<Execution> find(UUID id) {
        return executions.find(id);
    }

    public Optional<Execution> find(org.jdbi.v3.core.Handle h, UUID id) {
        return executions.find(h, id);
    }

    public int runningHere() {
        return running.size();
    }

    /** In the caller's write transaction: records a fire time that could not start; false when it was already claimed. */
    public boolean recordMissed(org.jdbi.v3.core.Handle h, StoredJob job, Instant fireTime, String reason) {
        UUID id = Ids.next();
        if (!claimFire(h, job, fireTime, id)) {
            return false;
        }
        executions.insertMissed(h, id, job.projectId(), job.id(), job.definition().fullName(), settings.memberId(), fireTime, reason);
        return true;
    }

    private boolean claimFire(org.jdbi.v3.core.Handle h, StoredJob job, Instant fireTime, UUID executionId) {
        return h.createUpdate("""
                        INSERT INTO tandem_local.fire_claims (job_id, fire_time, claimed_by, execution_id)
                        VALUES (:job, :fire, :member, :execution) ON CONFLICT DO NOTHING""")
                .bind("job", job.id()).bind("fire", java.sql.Timestamp.from(fireTime)).bind("member", settings.memberId())
                .bind("execution", executionId)
                .execute() == 1;
    }

    private Attempt prepare(StoredJob job, Map<String, String> givenOptions, String user) {
        JobDefinition definition = job.definition();
        if (!definition.executionEnabled()) {
            throw Refusal.conflict("execution is disabled for job '" + definition.fullName() + "' (executionEnabled: false)");
        }
        ResolvedOptions options = optionValues.resolveAll(job.project(), definition.options(), givenOptions);
        Duration timeout = durationOf(definition.timeout(), options, "timeout");
        int retries = retriesOf(definition, options);
        Duration retryDelay = definition.retryDelay() == null ? Duration.ZERO : durationOf(definition.retryDelay(), options, "retry.delay");
        return new Attempt(job, definition, options, user, timeout, retries, retryDelay == null ? Duration.ZERO : retryDelay, 1, null);
    }

    private static ExecutionRepository.NewExecution newExecution(UUID id, Attempt attempt, ExecutionStatus status, String member, Instant fireTime) {
        return new ExecutionRepository.NewExecution(id, attempt.job().projectId(), attempt.job().id(), attempt.definition().fullName(),
                !attempt.definition().multipleExecutions(), attempt.options().shown(), attempt.user(), member,
                attempt.number(), attempt.retryOf(), status, fireTime);
    }

    /** One attempt of a run; a retry is the same run with the next number, linked to the first attempt. */
    private record Attempt(StoredJob job, JobDefinition definition, ResolvedOptions options, String user, Duration timeout,
                           int retries, Duration retryDelay, int number, UUID retryOf) {
        Attempt next(UUID first) {
            return new Attempt(job, definition, options, user, timeout, retries, retryDelay, number + 1, first);
        }
    }

    private Execution start(Attempt attempt) {
        Execution execution = executions.insertRunning(newExecution(Ids.next(), attempt, ExecutionStatus.RUNNING, settings.memberId(), null));
        launch(execution, attempt);
        return execution;
    }

    private void launch(Execution execution, Attempt attempt) {
        UUID id = execution.id();
        started.inc();
        RunningExecution live = new RunningExecution(id, settings.killGrace());
        running.put(id, live);
        try {
            workers.execute(() -> execute(live, attempt));
        } catch (RejectedExecutionException e) {
            running.remove(id);
            finish(live, ExecutionStatus.INCOMPLETE, "member " + settings.memberId() + " is shutting down", 0);
            logOnly(id, "ERROR", "execution incomplete: member " + settings.memberId() + " is shutting down");
            throw new Refusal(Refusal.Kind.UNAVAILABLE, "this member is shutting down; run the job again");
        }
    }

    private static Duration durationOf(String text, ResolvedOptions options, String field) {
        if (text == null) {
            return null;
        }
        String expanded = Expansion.expand(text, options.forSteps());
        try {
            Duration duration = RundeckDuration.parse(expanded);
            return duration.isZero() ? null : duration;
        } catch (IllegalArgumentException e) {
            throw new Refusal(Refusal.Kind.INVALID, options.masked(field + " '" + text + "' expands to '" + expanded + "': " + e.getMessage()), field);
        }
    }

    private static int retriesOf(JobDefinition definition, ResolvedOptions options) {
        if (definition.retry() == null) {
            return 0;
        }
        String expanded = Expansion.expand(definition.retry(), options.forSteps()).trim();
        try {
            return Integer.parseInt(expanded);
        } catch (NumberFormatException e) {
            throw new Refusal(Refusal.Kind.INVALID, options.masked("retry '" + definition.retry() + "' expands to '" + expanded + "', not a number of attempts"),
                    "retry");
        }
    }

    private void execute(RunningExecution live, Attempt attempt) {
        ExecutionStatus status = ExecutionStatus.FAILED;
        String reason = "internal error";
        boolean recorded = false;
        try {
            Outcome outcome = runWorkflow(live, attempt);
            status = outcome.status();
            reason = outcome.reason();
        } catch (Throwable e) {
            LOG.error("Execution {} of job {} failed unexpectedly", live.id(), attempt.definition().fullName(), e);
            reason = "internal error: " + e.getClass().getSimpleName();
        } finally {
            recorded = finish(live, status, reason, 0);
        }
        // Only the member whose final state was recorded schedules the next attempt: after a
        // takeover the row is already 'incomplete' and the taker re-runs it, never both.
        if (recorded && status == ExecutionStatus.FAILED_WITH_RETRY) {
            UUID first = attempt.retryOf() == null ? live.id() : attempt.retryOf();
            timers.schedule(() -> retry(attempt.next(first)), attempt.retryDelay().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private record Outcome(ExecutionStatus status, String reason) {}

    private Outcome runWorkflow(RunningExecution live, Attempt attempt) {
        long startNanos = System.nanoTime();
        Duration timeout = attempt.timeout();
        ScheduledFuture<?> timer = timeout == null ? null : timers.schedule(
                () -> live.stop(ExecutionStatus.TIMEDOUT, "timed out after " + timeout.toString().substring(2).toLowerCase(java.util.Locale.ROOT)),
                timeout.toMillis(), TimeUnit.MILLISECONDS);
        SecretMasker masker = new SecretMasker();
        masker.add(attempt.options().secretValues());
        JobDefinition definition = attempt.definition();
        ExecutionStatus status;
        String reason;
        dev.tandem.runtime.nodes.Node host = dev.tandem.runtime.nodes.Node.localHost(settings.nodeName());
        LogLimit limit = definition.loglimit() == null || definition.loglimit().isBlank() ? LogLimit.ofDefault(settings.defaultLogLimit())
                : LogLimit.of(definition.loglimit(), definition.loglimitAction(), definition.loglimitStatus());
        try (LogWriter log = new MaskingLogWriter(limit == null ? logs.open(live.id()) : limit.wrap(logs.open(live.id()), live, clock), masker);
             SshNodeRunner.Sessions sessions = ssh.sessions(projectNodes::config)) {
            log.append(new LogEntry(clock.instant(), settings.nodeName(), "", "tandem", "NORMAL",
                    "execution of '" + definition.fullName() + "' started by " + attempt.user() + " on member " + settings.memberId()
                            + (attempt.number() > 1 ? " (attempt " + attempt.number() + " of " + (attempt.retries() + 1) + ")" : "")));
            StepResult result;
            try {
                result = workflows.run(definition, attempt.options().forSteps(),
                        new WorkflowRunner.Context(live, log, host, host, attempt.job().project(), settings.workDir(),
                                masker, WorkflowRunner.LogLevel.ofJob(definition.loglevel()), jobEnvironment(attempt, live.id()), sessions,
                                SCHEDULER.equals(attempt.user()) ? attempt.job().savedBy() : attempt.user()),
                        List.of(attempt.job().id().toString()), "");
            } catch (RuntimeException e) {
                LOG.error("Execution {} of job {} failed unexpectedly", live.id(), definition.fullName(), e);
                result = StepResult.failed("internal error: " + e.getClass().getSimpleName());
            }
            // (an Error propagates to execute(), which still records the final state)
            RunningExecution.Stop stop = live.stopRequest();
            if (stop != null) {
                status = stop.status();
                reason = stop.reason();
            } else {
                status = result.success() ? ExecutionStatus.SUCCEEDED : ExecutionStatus.FAILED;
                reason = result.reason();
            }
            if (retryable(status) && attempt.number() <= attempt.retries()) {
                status = ExecutionStatus.FAILED_WITH_RETRY;
                reason = reason + "; attempt " + (attempt.number() + 1) + " of " + (attempt.retries() + 1)
                        + " starts in " + attempt.retryDelay().toSeconds() + " s";
            }
            reason = masker.mask(reason);
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
        return new Outcome(status, reason);
    }

    /** Rundeck's RD_JOB_* variables, exported to every step. */
    private Map<String, String> jobEnvironment(Attempt attempt, UUID executionId) {
        return Map.of(
                "RD_JOB_ID", attempt.job().uuid(),
                "RD_JOB_NAME", attempt.definition().name(),
                "RD_JOB_GROUP", attempt.definition().group(),
                "RD_JOB_PROJECT", attempt.job().project(),
                "RD_JOB_EXECID", executionId.toString(),
                "RD_JOB_USERNAME", attempt.user(),
                "RD_JOB_RETRYATTEMPT", String.valueOf(attempt.number() - 1),
                "RD_NODE_NAME", settings.nodeName());
    }

    /** Rundeck retries a failed or timed-out run, never an aborted one. */
    private static boolean retryable(ExecutionStatus status) {
        return status == ExecutionStatus.FAILED || status == ExecutionStatus.TIMEDOUT;
    }

    private void retry(Attempt attempt) {
        try {
            Execution execution = start(attempt);
            LOG.info("Retrying job '{}': attempt {} is execution {}", attempt.definition().fullName(), attempt.number(), execution.id());
        } catch (RuntimeException e) {
            LOG.error("Cannot start attempt {} of job '{}' (retry of {}): {}", attempt.number(), attempt.definition().fullName(),
                    attempt.retryOf(), e.getMessage());
        }
    }

    /**
     * Records the final state. A failure (database blip) is retried with backoff while this member
     * runs; the execution stays in {@code running} until then, so a later start still sees it.
     */
    private boolean finish(RunningExecution live, ExecutionStatus status, String reason, int attempt) {
        try {
            boolean changed = finalStates.record(live.id(), status, reason);
            finished.get(status).inc();
            running.remove(live.id());
            if (!changed) {
                LOG.warn("Execution {} ended {} here, but its record had already been closed elsewhere (taken over?)", live.id(), status.sql());
            }
            return changed;
        } catch (RuntimeException e) {
            long delay = FINAL_STATE_RETRY.after(attempt + 1).toMillis();
            LOG.error("Execution {} ended {} but its state could not be recorded ({}); retrying in {} ms",
                    live.id(), status.sql(), e.getMessage(), delay);
            try {
                timers.schedule(() -> finish(live, status, reason, attempt + 1), delay, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException stopped) {
                LOG.error("Execution {}: member stopping; its state stays 'running' until restart recovery marks it incomplete", live.id());
                running.remove(live.id());
            }
            return false;
        }
    }

    /** Stops every run of this member (it was taken over: another member owns their records now). */
    public int stopAll(String reason) {
        running.values().forEach(r -> r.stop(ExecutionStatus.INCOMPLETE, reason));
        return running.size();
    }

    /** Asks the execution to stop; returns true when this member runs it (otherwise its own member picks the request up). */
    public boolean abort(Execution execution, String user) {
        if (execution.status().isFinal()) {
            throw Refusal.conflict("execution " + execution.id() + " already ended: " + execution.status().sql());
        }
        if (execution.status() == ExecutionStatus.QUEUED) {
            boolean cancelled = gate.write(h -> {
                if (h.createUpdate("DELETE FROM tandem_local.dispatch_queue WHERE execution_id = :id").bind("id", execution.id()).execute() == 0) {
                    return false;
                }
                return h.createUpdate("""
                                UPDATE tandem.executions SET status = 'aborted', ended_at = now(), reason = :reason
                                WHERE id = :id AND status = 'queued'""")
                        .bind("id", execution.id())
                        .bind("reason", "aborted by " + user + " before member " + execution.memberId() + " started it")
                        .execute() == 1;
            });
            if (cancelled) {
                logOnly(execution.id(), "WARN", "execution aborted by " + user + " before member " + execution.memberId() + " started it");
                return true;
            }
        }
        executions.requestAbort(execution.id(), user);
        RunningExecution live = running.get(execution.id());
        if (live == null) {
            return false;
        }
        live.stop(ExecutionStatus.ABORTED, "aborted by " + user);
        return true;
    }

    /**
     * The whole log of an execution that ended without running: one line saying why. Its log is
     * then complete (sealed) like any other, so followers stop waiting.
     */
    private void logOnly(UUID id, String level, String message) {
        try (LogWriter log = logs.open(id)) {
            log.append(new LogEntry(clock.instant(), settings.nodeName(), "", "tandem", level, message));
        } catch (RuntimeException e) {
            LOG.warn("Execution {}: cannot write its log: {}", id, e.getMessage());
        }
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
        workers.shutdown();
        running.values().forEach(r -> r.stop(ExecutionStatus.INCOMPLETE, "member " + settings.memberId() + " stopped while the execution was running"));
        if (!workers.awaitTermination(settings.killGrace().toMillis() + 5000, TimeUnit.MILLISECONDS)) {
            LOG.warn("{} execution(s) still running at shutdown; they will be marked incomplete at the next start", running.size());
        }
        finalStates.close(); // before the timers: a retried finish waiting on the writer is not interrupted
        timers.shutdownNow();
        streamReaders.shutdownNow();
        nodeThreads.shutdownNow();
        ssh.close();
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
