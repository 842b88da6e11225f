package dev.tandem.runtime.cluster;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Quartz cron expressions (seconds first) evaluated in a job's time zone, with cron-utils. */
public final class CronSchedules {
    private static final CronParser QUARTZ = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ));
    /** Parsed expressions: parsing costs far more than finding the next fire time (a scheduler batch asks hundreds of times). */
    private static final Map<String, ExecutionTime> PARSED = new ConcurrentHashMap<>();
    private static final int MAX_PARSED = 10_000;

    private CronSchedules() {}

    /** The first fire time strictly after {@code after}; empty when the expression never fires again. */
    public static Optional<Instant> nextAfter(String cron, String zone, Instant after) {
        ExecutionTime time = parsed(cron);
        // Cron fires on whole seconds; cron-utils would otherwise carry the fraction of 'after' along.
        Instant whole = after.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        return time.nextExecution(ZonedDateTime.ofInstant(whole, ZoneId.of(zone)))
                .map(t -> t.toInstant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    }

    private static ExecutionTime parsed(String cron) {
        ExecutionTime time = PARSED.get(cron);
        if (time == null) {
            time = ExecutionTime.forCron(QUARTZ.parse(cron));
            if (PARSED.size() >= MAX_PARSED) {
                PARSED.clear(); // edited schedules leave old expressions behind; start over rather than grow
            }
            PARSED.put(cron, time);
        }
        return time;
    }

    /** Fire times from {@code first} (included) up to {@code until} (included), at most {@code limit}. */
    public static List<Instant> between(String cron, String zone, Instant first, Instant until, int limit) {
        List<Instant> times = new ArrayList<>();
        Instant at = first;
        while (at != null && !at.isAfter(until) && times.size() < limit) {
            times.add(at);
            at = nextAfter(cron, zone, at).orElse(null);
        }
        return times;
    }
}
