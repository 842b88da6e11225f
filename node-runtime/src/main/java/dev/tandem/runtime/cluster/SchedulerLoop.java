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

    private final String memberId;
    private final ClusterSettings settings;
    private final ScheduleRepository schedules;
    private final MemberRepository members;
    private final JobRepository jobs;
    private final ProjectRepository projects;
    private final ExecutionService executions;
    private final SiteGate gate;
    private final Dispatcher dispatcher;

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

    /** One cycle; returns the sentence that explains what it did. */
    public String cycle() {
        if (!gate.current().acceptsWrites()) {
            return "site is " + gate.current().role().sql() + ": no schedule fires here";
        }
        Optional<MemberView> me = members.find(memberId);
        if (me.isPresent() && me.get().schedulesPaused()) {
            return "schedules of member " + memberId + " are paused";
        }
        Instant now = schedules.databaseNow();
        List<ScheduleRepository.Due> due = schedules.due(memberId, now, 100);
        int fired = 0;
        int missed = 0;
        for (ScheduleRepository.Due schedule : due) {
            Optional<StoredJob> job = jobs.find(schedule.jobId().toString());
            if (job.isEmpty()) {
                schedules.delete(schedule.jobId());
                continue;
            }
            JobDefinition definition = job.get().definition();
            List<Instant> times = CronSchedules.between(schedule.cron(), schedule.timeZone(), schedule.nextFireAt(), now, 100_000);
            boolean switchedOff = !definition.scheduled() || projectSwitchedOff(job.get().project());
            List<Instant> late = times.stream().filter(t -> Duration.between(t, now).compareTo(settings.misfireThreshold()) > 0).toList();
            List<Instant> onTime = times.subList(late.size(), times.size());
            if (!switchedOff) {
                missed += recordMissed(job.get(), late, now);
                for (Instant fireTime : onTime) {
                    if (dispatcher.fire(job.get(), fireTime)) {
                        fired++;
                    }
                }
            }
            Instant last = times.isEmpty() ? schedule.nextFireAt() : times.get(times.size() - 1);
            Instant from = last.isAfter(now) ? last : now;
            Optional<Instant> next = CronSchedules.nextAfter(schedule.cron(), schedule.timeZone(), from);
            if (next.isPresent()) {
                schedules.advance(schedule.jobId(), memberId, schedule.version(), next.get());
            } else {
                schedules.delete(schedule.jobId());
            }
        }
        return due.isEmpty() ? "no schedule due" : "fired " + fired + " and recorded " + missed + " missed fire time(s) for " + due.size() + " due schedule(s)";
    }

    /** Each missed fire time is recorded once (claimed like a fire); a very long gap keeps the last ones and says how many more. */
    private int recordMissed(StoredJob job, List<Instant> late, Instant now) {
        if (late.isEmpty()) {
            return 0;
        }
        int recorded = 0;
        List<Instant> kept = late.size() > MAX_MISSED_RECORDS ? late.subList(late.size() - MAX_MISSED_RECORDS, late.size()) : late;
        int dropped = late.size() - kept.size();
        for (int i = 0; i < kept.size(); i++) {
            Instant fireTime = kept.get(i);
            String reason = "missed: the fire time was " + Duration.between(fireTime, now).toSeconds()
                    + " s ago, past the misfire threshold of " + settings.misfireThreshold().toSeconds() + " s"
                    + (i == 0 && dropped > 0 ? "; " + dropped + " earlier fire time(s) from " + late.get(0) + " were missed too" : "");
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
