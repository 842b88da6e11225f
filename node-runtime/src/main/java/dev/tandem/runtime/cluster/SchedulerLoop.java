package dev.tandem.runtime.cluster;

import dev.tandem.kernel.site.SiteEpochChangedException;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.kernel.site.SiteNotActiveException;
import dev.tandem.runtime.execution.ExecutionService;
import dev.tandem.runtime.job.JobDefinition;
import dev.tandem.runtime.job.JobRepository;
import dev.tandem.runtime.job.StoredJob;
import dev.tandem.runtime.project.ProjectRepository;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Fires the schedules this member owns. Each (job, fire time) is claimed in the database before
 * it starts, so it starts at most once per site; a fire time later than the misfire threshold is
 * recorded once as {@code missed} instead of firing late in a burst.
 */
public final class SchedulerLoop {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SchedulerLoop.class);
    static final int MAX_MISSED_RECORDS = 100;
    /** Due schedules taken per query; a cycle takes up to MAX_BATCHES_PER_CYCLE batches while they come full. */
    static final int BATCH = 100;
    static final int MAX_BATCHES_PER_CYCLE = 50;
    private long cycles;
    /** Set by a batch that took {@link #BATCH} due schedules (more may be due). */
    private boolean fullBatch;

    private final String memberId;
    private final ClusterSettings settings;
    private final ScheduleRepository schedules;
    private final MemberRepository members;
    private final JobRepository jobs;
    private final ProjectRepository projects;
    private final ExecutionService executions;
    private final SiteGate gate;
    private final Dispatcher dispatcher;
    private long settledEpoch = 1;

    public SchedulerLoop(String memberId, ClusterSettings settings, ScheduleRepository schedules, MemberRepository members,
                         JobRepository jobs, ProjectRepository projects, ExecutionService executions, SiteGate gate, Dispatcher dispatcher) {
        this.memberId = memberId;
        this.settings = settings;
        this.schedules = schedules;
        this.members = members;
        this.jobs = jobs;
        this.projects = projects;
        this.executions = executions;
        this.gate = gate;
        this.dispatcher = dispatcher;
    }

    /**
     * One cycle; returns the sentence that explains what it did. A full batch means more may be
     * due: the next batch is taken at once rather than a tick later, each one checking the site,
     * the member and the clock again.
     */
    public String cycle() {
        String said;
        int batches = 0;
        do {
            fullBatch = false;
            said = batch();
        } while (fullBatch && ++batches < MAX_BATCHES_PER_CYCLE);
        return said;
    }

    private String batch() {
        dev.tandem.kernel.site.SiteState site = gate.current();
        if (!site.acceptsWrites()) {
            return "site is " + site.role().sql() + ": no schedule fires here";
        }
        if (site.epoch() > settledEpoch) {
            // After a promotion the schedule rows are rebuilt from the jobs (after their last
            // replicated fire) by the site-role loop; rows left from an earlier epoch must not fire.
            if (!schedules.settledAt(site.epoch())) {
                return "site '" + site.siteId() + "' became active at epoch " + site.epoch() + ": schedules wait until the takeover settled";
            }
            settledEpoch = site.epoch();
        }
        Optional<MemberView> me = members.find(memberId);
        if (me.isPresent() && me.get().schedulesPaused()) {
            return "schedules of member " + memberId + " are paused";
        }
        if (me.isPresent() && me.get().draining()) {
            return "member " + memberId + " is draining: its schedules are moved to live members by the takeover loop";
        }
        if (++cycles % 10_000 == 0) {
            schedules.pruneClaims();
        }
        Instant now = schedules.databaseNow();
        List<ScheduleRepository.Due> due = schedules.due(memberId, now, BATCH);
        if (due.isEmpty()) {
            return "no schedule due";
        }
        Map<UUID, StoredJob> found = jobs.findAll(due.stream().map(ScheduleRepository.Due::jobId).toList());
        Map<String, Map<String, Object>> projectConfigs = new HashMap<>(); // read once per batch, not once per fire
        Supplier<List<MemberView>> memberList = com.google.common.base.Suppliers.memoize(members::list);
        List<Plan> plans = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (ScheduleRepository.Due schedule : due) {
            try {
                plans.add(plan(schedule, found.get(schedule.jobId()), now, projectConfigs, memberList));
            } catch (RuntimeException e) {
                failed(schedule, now, e, failures);
            }
        }
        // One order for every member's claims (job ids are UUIDv7: Java's and PostgreSQL's order agree).
        plans.sort(Comparator.comparing(plan -> plan.schedule().jobId()));
        int[] counts = new int[3];
        boolean batched;
        // At the epoch the due schedules were read at: a promotion in between rebuilds the rows, and a
        // rebuilt row's version may equal the one read.
        long epoch = site.epoch();
        try {
            add(counts, gate.writeAtEpoch(epoch, h -> applyAll(h, plans)));
            batched = true;
        } catch (SiteNotActiveException e) {
            return "site stopped accepting writes (" + e.getMessage() + "): " + due.size() + " due schedule(s) wait";
        } catch (SiteEpochChangedException e) {
            return e.getMessage() + ": the " + due.size() + " due schedule(s) are read again";
        } catch (RuntimeException batchFailure) {
            LOG.warn("A batch of {} due schedule(s) failed and is redone one schedule at a time: {}", plans.size(), batchFailure.getMessage());
            batched = false;
        }
        if (batched) {
            plans.forEach(plan -> executions.launchClaimed(plan.fires()));
        } else {
            // One schedule's failure rolled the whole batch back: take them one by one, so the others still fire.
            for (Plan plan : plans) {
                try {
                    add(counts, gate.writeAtEpoch(epoch, h -> applyAll(h, List.of(plan))));
                } catch (SiteNotActiveException e) {
                    return "fired " + counts[0] + "; site stopped accepting writes (" + e.getMessage() + "): the other due schedules wait";
                } catch (SiteEpochChangedException e) {
                    return "fired " + counts[0] + "; " + e.getMessage() + ": the other due schedules are read again";
                } catch (RuntimeException e) {
                    failed(plan.schedule(), now, e, failures);
                    continue;
                }
                executions.launchClaimed(plan.fires());
            }
        }
        if (!failures.isEmpty()) {
            return "fired " + counts[0] + "; could not fire " + failures.size() + " schedule(s): " + String.join("; ", failures);
        }
        // Schedules another transaction held (an import, a move) stay due for the next cycle; a batch
        // that took none of its schedules does not make this cycle ask again at once.
        fullBatch = due.size() == BATCH && counts[2] > 0;
        return "fired " + counts[0] + " and recorded " + counts[1] + " missed fire time(s) for " + counts[2] + " of "
                + due.size() + " due schedule(s)";
    }

    /** What one due schedule does in this batch: fire times to record as missed, fires to claim, and its next fire time. */
    private record Plan(ScheduleRepository.Due schedule, StoredJob job, List<Missed> missed,
                        List<ExecutionService.ScheduledFire> fires, Optional<Instant> next) {}

    private record Missed(Instant fireTime, String reason) {}

    /** Works out, outside any transaction, what one due schedule does (job null: it was deleted). */
    private Plan plan(ScheduleRepository.Due schedule, StoredJob job, Instant now, Map<String, Map<String, Object>> projectConfigs,
                      Supplier<List<MemberView>> memberList) {
        Optional<Instant> next = CronSchedules.nextAfter(schedule.cron(), schedule.timeZone(), now);
        if (job == null) {
            return new Plan(schedule, null, List.of(), List.of(), Optional.empty());
        }
        JobDefinition definition = job.definition();
        Map<String, Object> config = projectConfigs.computeIfAbsent(job.project(),
                project -> projects.find(project).map(p -> p.config()).orElse(Map.of()));
        boolean switchedOff = !definition.scheduled()
                || Boolean.FALSE.equals(config.get("scheduleEnabled")) || Boolean.FALSE.equals(config.get("executionEnabled"));
        if (switchedOff) {
            return new Plan(schedule, job, List.of(), List.of(), next);
        }
        Instant horizon = now.minus(settings.misfireThreshold());
        List<Instant> late = schedule.nextFireAt().isBefore(horizon)
                ? CronSchedules.between(schedule.cron(), schedule.timeZone(), schedule.nextFireAt(), horizon, MAX_MISSED_RECORDS + 1)
                : List.of();
        boolean moreLate = late.size() > MAX_MISSED_RECORDS;
        if (moreLate) {
            late = late.subList(0, MAX_MISSED_RECORDS);
        }
        Instant firstOnTime = schedule.nextFireAt().isBefore(horizon)
                ? CronSchedules.nextAfter(schedule.cron(), schedule.timeZone(), horizon.minusSeconds(1)).orElse(now.plusSeconds(1))
                : schedule.nextFireAt();
        List<Missed> missed = missedRecords(schedule, late, moreLate, horizon, now);
        List<ExecutionService.ScheduledFire> fires = new ArrayList<>();
        for (Instant fireTime : CronSchedules.between(schedule.cron(), schedule.timeZone(), firstOnTime, now, 1000)) {
            RemoteExecutionPolicy.Choice choice = dispatcher.target(job, fireTime, config, memberList);
            if (choice.member().isPresent()) {
                fires.add(executions.prepareFire(job, fireTime, choice.member().get()));
            } else {
                missed.add(new Missed(fireTime, "missed: " + choice.reason()));
            }
        }
        return new Plan(schedule, job, missed, fires, next);
    }

    /**
     * Carries plans out in the caller's write transaction; returns {fired, missed, schedules taken}.
     * Each schedule row is locked first, without waiting ({@code SKIP LOCKED}): a row that an import,
     * a move or a delete holds, or that changed since it was read, is left due for the next cycle.
     * Taking the schedule row before anything else (as a delete does) and never waiting for one
     * keeps the batch out of lock cycles with those writes.
     */
    private int[] applyAll(org.jdbi.v3.core.Handle h, List<Plan> plans) {
        Map<UUID, Long> versions = new HashMap<>();
        plans.forEach(plan -> versions.put(plan.schedule().jobId(), plan.schedule().version()));
        java.util.Set<UUID> taken = ScheduleRepository.lockUnchanged(h, memberId, versions);
        int[] counts = new int[3];
        for (Plan plan : plans) {
            if (taken.contains(plan.schedule().jobId())) {
                add(counts, apply(h, plan));
            }
        }
        return counts;
    }

    private int[] apply(org.jdbi.v3.core.Handle h, Plan plan) {
        UUID jobId = plan.schedule().jobId();
        if (plan.next().isPresent()) {
            ScheduleRepository.advance(h, jobId, memberId, plan.schedule().version(), plan.next().get());
        } else {
            ScheduleRepository.remove(h, jobId);
        }
        int[] counts = {0, 0, 1};
        if (plan.job() != null) {
            for (Missed missed : plan.missed()) {
                if (executions.recordMissed(h, plan.job(), missed.fireTime(), missed.reason())) {
                    counts[1]++;
                }
            }
            for (ExecutionService.ScheduledFire fire : plan.fires()) {
                if (executions.claim(h, fire).isPresent()) {
                    counts[0]++;
                }
            }
        }
        return counts;
    }

    /** One broken schedule must not hold the others back: record why, move it on. */
    private void failed(ScheduleRepository.Due schedule, Instant now, RuntimeException e, List<String> failures) {
        failures.add(schedule.jobId() + ": " + e.getMessage());
        CronSchedules.nextAfter(schedule.cron(), schedule.timeZone(), now)
                .ifPresent(next -> schedules.advance(schedule.jobId(), memberId, schedule.version(), next));
    }

    private static void add(int[] into, int[] counts) {
        for (int i = 0; i < counts.length; i++) {
            into[i] += counts[i];
        }
    }


    /**
     * Each missed fire time is recorded once (claimed like a fire). After a very long gap the first
     * {@link #MAX_MISSED_RECORDS} are recorded and the last record says that more, up to the
     * misfire horizon, were missed too. A fire time before the hand-over that rebuilt the schedule
     * names that hand-over as its cause.
     */
    private List<Missed> missedRecords(ScheduleRepository.Due schedule, List<Instant> late, boolean more, Instant horizon, Instant now) {
        List<Missed> records = new ArrayList<>();
        for (int i = 0; i < late.size(); i++) {
            Instant fireTime = late.get(i);
            boolean beforeHandOver = schedule.resumedAt() != null && fireTime.isBefore(schedule.resumedAt());
            String cause = beforeHandOver
                    ? schedule.resumedBecause() + " at " + schedule.resumedAt() + ", " + seconds(Duration.between(fireTime, schedule.resumedAt()))
                            + " s after this fire time, past the misfire threshold of " + settings.misfireThreshold().toSeconds()
                            + " s; no record that it ran had reached this site"
                    : "the fire time was " + Duration.between(fireTime, now).toSeconds() + " s ago, past the misfire threshold of "
                            + settings.misfireThreshold().toSeconds() + " s";
            records.add(new Missed(fireTime, "missed: " + cause
                    + (more && i == late.size() - 1 ? "; every later fire time until " + horizon + " was missed too" : "")));
        }
        return records;
    }

    private static String seconds(Duration duration) {
        return String.format(java.util.Locale.ROOT, "%.1f", duration.toMillis() / 1000.0);
    }
}
