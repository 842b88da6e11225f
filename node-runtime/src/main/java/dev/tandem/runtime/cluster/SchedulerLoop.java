package dev.tandem.runtime.cluster;

import dev.tandem.runtime.execution.ExecutionService;
import dev.tandem.runtime.job.JobDefinition;
import dev.tandem.runtime.job.JobRepository;
import dev.tandem.runtime.job.StoredJob;
import dev.tandem.runtime.project.ProjectRepository;
import dev.tandem.runtime.site.SiteGate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Fires the schedules this member owns. Each (job, fire time) is claimed in the database before
 * it starts, so it starts at most once per site; a fire time later than the misfire threshold is
 * recorded once as {@code missed} instead of firing late in a burst.
 */
public final class SchedulerLoop {
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
        dev.tandem.runtime.site.SiteState site = gate.current();
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
        int fired = 0;
        int missed = 0;
        List<String> failures = new java.util.ArrayList<>();
        Map<String, Boolean> switchedOff = new java.util.HashMap<>(); // one project lookup per batch, not one per fire
        for (ScheduleRepository.Due schedule : due) {
            try {
                int[] counts = fire(schedule, now, switchedOff);
                fired += counts[0];
                missed += counts[1];
            } catch (RuntimeException e) {
                // One broken schedule must not hold the others back: record why, move it on.
                failures.add(schedule.jobId() + ": " + e.getMessage());
                CronSchedules.nextAfter(schedule.cron(), schedule.timeZone(), now)
                        .ifPresent(next -> schedules.advance(schedule.jobId(), memberId, schedule.version(), next));
            }
        }
        if (!failures.isEmpty()) {
            return "fired " + fired + "; could not fire " + failures.size() + " schedule(s): " + String.join("; ", failures);
        }
        fullBatch = due.size() == BATCH;
        return due.isEmpty() ? "no schedule due" : "fired " + fired + " and recorded " + missed + " missed fire time(s) for " + due.size() + " due schedule(s)";
    }

    /** Fires (or records as missed) every due fire time of one schedule, then moves it on; returns {fired, missed}. */
    private int[] fire(ScheduleRepository.Due schedule, Instant now, Map<String, Boolean> projectSwitchedOff) {
        Optional<StoredJob> job = jobs.find(schedule.jobId().toString());
        if (job.isEmpty()) {
            schedules.delete(schedule.jobId());
            return new int[] {0, 0};
        }
        JobDefinition definition = job.get().definition();
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
        List<Instant> onTime = CronSchedules.between(schedule.cron(), schedule.timeZone(), firstOnTime, now, 1000);
        boolean switchedOff = !definition.scheduled() || projectSwitchedOff.computeIfAbsent(job.get().project(), this::projectSwitchedOff);
        int fired = 0;
        int missed = 0;
        if (!switchedOff) {
            missed = recordMissed(job.get(), late, moreLate, horizon, now);
            for (Instant fireTime : onTime) {
                if (dispatcher.fire(job.get(), fireTime)) {
                    fired++;
                }
            }
        }
        Optional<Instant> next = CronSchedules.nextAfter(schedule.cron(), schedule.timeZone(), now);
        if (next.isPresent()) {
            schedules.advance(schedule.jobId(), memberId, schedule.version(), next.get());
        } else {
            schedules.delete(schedule.jobId());
        }
        return new int[] {fired, missed};
    }

    /**
     * Each missed fire time is recorded once (claimed like a fire). After a very long gap the first
     * {@link #MAX_MISSED_RECORDS} are recorded and the last record says that more, up to the
     * misfire horizon, were missed too.
     */
    private int recordMissed(StoredJob job, List<Instant> late, boolean more, Instant horizon, Instant now) {
        int recorded = 0;
        for (int i = 0; i < late.size(); i++) {
            Instant fireTime = late.get(i);
            String reason = "missed: the fire time was " + Duration.between(fireTime, now).toSeconds()
                    + " s ago, past the misfire threshold of " + settings.misfireThreshold().toSeconds() + " s"
                    + (more && i == late.size() - 1 ? "; every later fire time until " + horizon + " was missed too" : "");
            if (executions.recordMissed(job, fireTime, reason)) {
                recorded++;
            }
        }
        return recorded;
    }

    private boolean projectSwitchedOff(String project) {
        Map<String, Object> config = projects.find(project).map(p -> p.config()).orElse(Map.of());
        return Boolean.FALSE.equals(config.get("scheduleEnabled")) || Boolean.FALSE.equals(config.get("executionEnabled"));
    }
}
