package dev.tandem.runtime.cluster;

import dev.tandem.kernel.loop.Backoff;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.execution.Execution;
import dev.tandem.runtime.execution.ExecutionService;
import dev.tandem.runtime.execution.ExecutionStatus;
import dev.tandem.runtime.job.JobRepository;
import dev.tandem.runtime.job.StoredJob;
import dev.tandem.runtime.project.ProjectRepository;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jdbi.v3.core.Handle;

/**
 * Autotakeover (DESIGN.md invariant 2): a member silent for the dead time (or one that said
 * goodbye) is taken over by exactly one live member, chosen by a single claim in the database.
 * The winner moves its schedules by policy and marks its runs incomplete, re-running those whose
 * job has {@code retry}.
 */
public final class TakeoverLoop {
    private final String self;
    private final ClusterSettings settings;
    private final MemberRepository members;
    private final ScheduleRepository schedules;
    private final JobRepository jobs;
    private final ProjectRepository projects;
    private final ExecutionService executions;
    private final RemoteExecutionPolicy policy;
    private final SiteGate gate;
    private final Decisions decisions;
    private final TakeoverRepository takeovers = new TakeoverRepository();
    private final java.util.function.Supplier<java.time.Duration> healthyFor;
    /** Pending re-runs whose decision failed here, tried again after a growing delay. */
    private final Map<UUID, PendingRetry> backoff = new ConcurrentHashMap<>();
    /** From one heartbeat (at least a second) up to five minutes between tries of one re-run. */
    private final Backoff rerunRetry;
    /** Attempts whose deciding commit was reported as failed, until the database tells whether it went through. */
    private final Map<UUID, ExecutionService.Rerun> unconfirmed = new ConcurrentHashMap<>();

    public TakeoverLoop(String self, ClusterSettings settings, MemberRepository members, ScheduleRepository schedules, JobRepository jobs,
                        ProjectRepository projects, ExecutionService executions, RemoteExecutionPolicy policy, SiteGate gate,
                        Decisions decisions, java.util.function.Supplier<java.time.Duration> healthyFor) {
        this.healthyFor = healthyFor;
        this.self = self;
        this.settings = settings;
        this.rerunRetry = new Backoff(java.time.Duration.ofMillis(Math.max(1000, settings.heartbeatInterval().toMillis())),
                java.time.Duration.ofMinutes(5));
        this.members = members;
        this.schedules = schedules;
        this.jobs = jobs;
        this.projects = projects;
        this.executions = executions;
        this.policy = policy;
        this.gate = gate;
        this.decisions = decisions;
    }

    /** One cycle, as ordered guards ending in one decision; returns the sentence that explains it. */
    public String cycle() {
        if (!gate.current().acceptsWrites()) {
            return "site is " + gate.current().role().sql() + ": no takeover here";
        }
        java.time.Duration healthy = healthyFor.get();
        if (healthy.compareTo(settings.deadAfter()) < 0) {
            return "this member's own heartbeats have succeeded for only " + healthy.toMillis() / 1000.0
                    + " s: it waits a full dead time (" + settings.deadAfter().toMillis() / 1000.0 + " s) before judging others";
        }
        List<MemberView> all = members.list();
        Optional<MemberView> me = all.stream().filter(m -> m.id().equals(self)).findFirst();
        if (me.isEmpty() || !me.get().state().equals("active") && !me.get().state().equals("draining")) {
            return "this member is not live itself: it takes nothing over";
        }
        List<String> sentences = new ArrayList<>();
        for (MemberView dead : all) {
            boolean gone = !dead.id().equals(self) && (dead.state().equals("dead") || dead.state().equals("stopped"));
            if (gone && dead.takenOverBy() == null && (dead.state().equals("dead") || dead.activeExecutions() > 0)) {
                sentences.add(takeOver(dead, me.get().draining()));
            }
            if (gone && dead.ownedSchedules() > 0) {
                sentences.add(rehome(dead));
            }
        }
        if (!me.get().draining()) {
            // what a member that died mid-takeover, or a failed write, left pending
            int reRun = reRunPending(null);
            if (reRun > 0) {
                sentences.add(decisions.record("takeover", "re-ran " + reRun + " execution(s) that an earlier takeover marked incomplete "
                        + "and had not re-run yet"));
            }
        }
        return sentences.isEmpty() ? "no dead member to take over" : String.join("; ", sentences);
    }

    /**
     * After this site was promoted: what members of the old active site were running or had queued
     * (their rows arrived by replication; their members are not this site's) becomes incomplete
     * with the reason, and runs again here where the job has retry. One member settles each epoch
     * (a row per epoch in {@code tandem_local.site_takeovers}); every member takes the schedules
     * that have no owner here.
     */
    public String settleRunsOfFormerSite(dev.tandem.kernel.site.SiteState site) {
        // Schedule rows left from an earlier time this site was active are stale (next fire times,
        // owners, crons): settling drops them, and every schedule is rebuilt from the jobs, resuming
        // after the last fire time that reached this site (ScheduleRepository.resumePoint), not after now.
        List<UUID> incomplete = gate.write(h -> takeovers.settleFormerSite(h, site.epoch(), self,
                "the site that ran it stopped being active; site '" + site.siteId() + "' took over at epoch " + site.epoch()).orElse(null));
        int rebuilt = schedules.rebuildMissing(self, "site '" + site.siteId() + "' took over at epoch " + site.epoch());
        if (incomplete == null) {
            return "site '" + site.siteId() + "' accepts writes at epoch " + site.epoch() + "; another member settled the former site's runs"
                    + (rebuilt == 0 ? "" : "; took " + rebuilt + " schedule(s) that had no owner here");
        }
        int reRun = selfDraining() ? 0 : reRunPending(incomplete);
        return decisions.record("takeover", "site '" + site.siteId() + "' became active at epoch " + site.epoch() + ": member " + self
                + " marked " + incomplete.size() + " execution(s) of the former active site incomplete, re-running " + reRun
                + " whose job has retry, and took " + rebuilt + " schedule(s) that had no owner here");
    }

    /** Exactly one live member wins the claim on a dead member and settles its runs. */
    private String takeOver(MemberView dead, boolean draining) {
        List<MemberView> live = members.live();
        String reason = "member " + dead.id() + " " + (dead.state().equals("stopped") ? "stopped" : "died (no heartbeat for "
                + dead.heartbeatAgeMillis() / 1000.0 + " s)") + " while the execution was running; taken over by " + self;
        Result result = gate.write(h -> takeovers.claimDeadMember(h, dead.id(), self, settings.deadAfter(), reason)
                .map(incomplete -> new Result(incomplete, requeue(h, dead.id(), live)))
                .orElse(null));
        if (result == null) {
            return "member " + dead.id() + " was taken over by another member first";
        }
        int reRun = draining ? 0 : reRunPending(result.incomplete());
        String why = dead.state().equals("stopped") ? "it stopped" : "no heartbeat for " + dead.heartbeatAgeMillis() / 1000.0
                + " s, dead after " + settings.deadAfter().toMillis() / 1000.0 + " s";
        return decisions.record("takeover", "took over member " + dead.id() + " (" + why + "): marked "
                + result.incomplete().size() + " running execution(s) incomplete, re-running " + reRun + " whose job has retry; sent "
                + result.requeued() + " run(s) queued for it to live members");
    }

    private record Result(List<UUID> incomplete, int requeued) {}

    /** Runs queued for a member that is gone go to a live one (the one with the fewest active runs). */
    private int requeue(Handle h, String from, List<MemberView> live) {
        Optional<MemberView> target = live.stream().filter(m -> !m.id().equals(from) && !m.draining())
                .min(Comparator.comparingInt(MemberView::activeExecutions).thenComparing(MemberView::id));
        if (target.isEmpty()) {
            return 0;
        }
        return takeovers.requeue(h, from, target.get().id());
    }

    /**
     * Moves the schedules of a member that is gone to live members. Every live member may do it:
     * each schedule moves by its own compare-and-set, so one wins per schedule, and schedules that
     * found no allowed member are retried every cycle rather than forgotten.
     */
    private String rehome(MemberView gone) {
        Map<UUID, String> plan = plan(gone.id(), members.live());
        if (plan.isEmpty()) {
            return decisions.record("takeover", "member " + gone.id() + " still owns " + gone.ownedSchedules()
                    + " schedule(s) but no live member is allowed to take them by policy "
                    + settings.takeoverPolicy().name().toLowerCase().replace('_', '-') + "; retrying every interval");
        }
        Map<String, Integer> moved = gate.write(h -> apply(h, gone.id(), plan));
        int total = moved.values().stream().mapToInt(Integer::intValue).sum();
        return total == 0 ? "schedules of member " + gone.id() + " were moved by another member first"
                : decisions.record("takeover", "moved " + total + " schedule(s) of member " + gone.id() + " (" + gone.state() + ") "
                        + moved + " by policy " + settings.takeoverPolicy().name().toLowerCase().replace('_', '-'));
    }

    /** Where each schedule of {@code from} goes; computed outside any transaction (it looks jobs up). */
    Map<UUID, String> plan(String from, List<MemberView> live) {
        List<MemberView> candidates = new ArrayList<>(live.stream().filter(m -> !m.id().equals(from) && !m.draining()).toList());
        if (settings.takeoverPolicy() == ClusterSettings.TakeoverPolicy.STATIC) {
            candidates.removeIf(m -> !settings.takeoverMembers().contains(m.id()));
        }
        Map<UUID, String> plan = new LinkedHashMap<>();
        if (candidates.isEmpty()) {
            return plan;
        }
        Map<String, Integer> counts = new HashMap<>();
        candidates.forEach(m -> counts.put(m.id(), m.ownedSchedules()));
        for (UUID job : schedules.ownedBy(from)) {
            String to = target(job, candidates, counts);
            if (to != null) {
                counts.merge(to, 1, Integer::sum);
                plan.put(job, to);
            }
        }
        return plan;
    }

    /** Applies a plan in the caller's transaction: each schedule moves only if {@code from} still owns it. */
    Map<String, Integer> apply(Handle h, String from, Map<UUID, String> plan) {
        Map<String, Integer> moved = new LinkedHashMap<>();
        plan.forEach((job, to) -> {
            if (schedules.assign(h, job, from, to) == 1) {
                moved.merge(to, 1, Integer::sum);
            }
        });
        return moved;
    }

    private String target(UUID job, List<MemberView> candidates, Map<String, Integer> counts) {
        if (settings.takeoverPolicy() == ClusterSettings.TakeoverPolicy.REMOTE_EXECUTION) {
            Optional<StoredJob> stored = jobs.find(job.toString());
            if (stored.isPresent()) {
                Map<String, Object> config = projects.find(stored.get().project()).map(p -> p.config()).orElse(Map.of());
                Optional<String> chosen = policy.choose(stored.get().project(), config, self, candidates).member();
                if (chosen.isPresent() && counts.containsKey(chosen.get())) {
                    return chosen.get();
                }
            }
        }
        return candidates.stream().min(Comparator.comparingInt((MemberView m) -> counts.get(m.id())).thenComparing(MemberView::id))
                .map(MemberView::id).orElse(null);
    }

    private boolean selfDraining() {
        return members.list().stream().anyMatch(m -> m.id().equals(self) && m.draining());
    }

    /** What one pending run became: the attempt to start here, or why there is none (null when it needs no sentence). */
    private record RerunDecision(ExecutionService.Rerun rerun, String why) {}

    /** A pending run whose decision failed on this member, tried again after a growing delay. */
    private record PendingRetry(long untilNanos, int failures) {}


    /**
     * Decides runs pending their re-run, each in its own transaction that clears the flag (rows
     * another member is deciding are skipped) and records the next attempt, then starts that attempt
     * here. With {@code only}, just those runs (a takeover deciding its own, at once); without, any
     * run marked at least one interval ago (what a dead taker, a restarted member or a failed write
     * left). A run whose decision fails waits for a growing delay, and does not block the others.
     * Returns how many attempts started.
     */
    int reRunPending(List<UUID> only) {
        int started = startUnconfirmed();
        if (started < 0) {
            return 0; // still cannot tell whether an earlier decision committed: try again next cycle
        }
        while (true) {
            long now = System.nanoTime();
            backoff.values().removeIf(b -> b.untilNanos() - now < -TimeUnit.MINUTES.toNanos(10));
            UUID[] skip = backoff.entrySet().stream().filter(e -> e.getValue().untilNanos() - now > 0).map(Map.Entry::getKey).toArray(UUID[]::new);
            AtomicReference<UUID> deciding = new AtomicReference<>();
            AtomicReference<ExecutionService.Rerun> made = new AtomicReference<>();
            Optional<RerunDecision> decided;
            try {
                decided = gate.write(h -> {
                    Optional<UUID> id = takeovers.takePendingRerun(h, only, settings.heartbeatInterval(), skip);
                    if (id.isEmpty()) {
                        return Optional.empty();
                    }
                    deciding.set(id.get());
                    RerunDecision decision = decide(h, id.get());
                    made.set(decision.rerun());
                    return Optional.of(decision);
                });
            } catch (RuntimeException e) {
                if (deciding.get() == null) {
                    return started; // the database or the site gate refused: every pending run waits for the next cycle
                }
                if (made.get() != null) {
                    // The commit may have gone through although it was reported as failed.
                    unconfirmed.put(made.get().execution().id(), made.get());
                    int confirmed = startUnconfirmed();
                    if (confirmed < 0) {
                        return started;
                    }
                    if (confirmed > 0) {
                        started += confirmed;
                        backoff.remove(deciding.get());
                        continue;
                    }
                }
                UUID id = deciding.get();
                PendingRetry previous = backoff.get(id);
                int failures = previous == null ? 1 : previous.failures() + 1;
                long delay = rerunRetry.after(failures).toMillis();
                backoff.put(id, new PendingRetry(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay), failures));
                decisions.record("takeover", "could not decide the re-run of execution " + id + ": " + e.getMessage()
                        + "; it stays pending, tried again in " + delay / 1000.0 + " s");
                continue;
            }
            if (decided.isEmpty()) {
                return started;
            }
            backoff.remove(deciding.get());
            if (decided.get().why() != null) {
                decisions.record("takeover", decided.get().why());
            }
            if (decided.get().rerun() != null && launch(decided.get().rerun())) {
                started++;
            }
        }
    }

    /**
     * Attempts whose deciding commit was reported as failed: each is started if it was recorded
     * after all, forgotten if not (its run is still pending). Returns how many started, or -1 when
     * the database cannot tell yet.
     */
    private int startUnconfirmed() {
        int started = 0;
        for (ExecutionService.Rerun rerun : List.copyOf(unconfirmed.values())) {
            Optional<Execution> stored;
            try {
                stored = executions.find(rerun.execution().id());
            } catch (RuntimeException e) {
                return -1;
            }
            unconfirmed.remove(rerun.execution().id());
            if (stored.filter(x -> x.status() == ExecutionStatus.RUNNING && self.equals(x.memberId())).isPresent()
                    && launch(rerun)) {
                started++;
            }
        }
        return started;
    }

    private boolean launch(ExecutionService.Rerun rerun) {
        try {
            executions.launchRerun(rerun);
            return true;
        } catch (RuntimeException e) {
            decisions.record("takeover", "the re-run " + rerun.execution().id() + " did not start: " + e.getMessage());
            return false;
        }
    }

    private RerunDecision decide(Handle h, UUID id) {
        Optional<Execution> execution = executions.find(h, id);
        if (execution.isEmpty() || execution.get().jobId() == null) {
            return new RerunDecision(null, null);
        }
        Optional<StoredJob> job = jobs.find(h, execution.get().jobId().toString());
        if (job.isEmpty()) {
            return new RerunDecision(null, "execution " + id + " is not re-run: its job was deleted");
        }
        Map<String, String> options = new LinkedHashMap<>();
        execution.get().options().forEach((k, v) -> {
            if (!"*****".equals(v)) {
                options.put(k, String.valueOf(v));
            }
        });
        try {
            return executions.claimRerun(h, job.get(), options, execution.get())
                    .map(rerun -> new RerunDecision(rerun, null))
                    .orElseGet(() -> new RerunDecision(null, null));
        } catch (Refusal e) {
            return new RerunDecision(null, "execution " + id + " of '" + job.get().definition().fullName() + "' is not re-run: " + e.getMessage());
        }
    }
}
