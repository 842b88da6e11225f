package dev.tandem.runtime.testing;

import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.cluster.CronSchedules;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The fire-time sequence of a job on one site, checked whole (DESIGN.md invariants 1 and 9):
 * every fire time the cron gives in a window is exactly one execution row on that site — it ran
 * once, or it is recorded {@code missed} with a reason. A hole (no row), a double (two rows) and
 * a missed row without a reason are each a problem.
 */
public final class FireSequence {
    /** What one site holds for one job's fire times in a window. */
    public record Report(UUID jobId, Instant from, Instant until, int fireTimes, int ran, List<String> missed, int holes, int doubles,
                         List<String> problems) {
        public boolean whole() {
            return problems.isEmpty();
        }

        @Override
        public String toString() {
            return "job " + jobId + " from " + from + " until " + until + ": " + fireTimes + " fire times, " + ran + " ran, "
                    + missed.size() + " missed, " + holes + " lost, " + doubles + " started twice"
                    + (problems.isEmpty() ? "" : "; problems: " + problems);
        }
    }

    /** Reports of many jobs and windows added up, for a soak's or a benchmark's figures. */
    public static final class Tally {
        private long checked;
        private long ran;
        private long lost;
        private long twice;
        private final List<String> missed = new ArrayList<>();
        private final List<String> problems = new ArrayList<>();

        public synchronized void add(Report report) {
            checked += report.fireTimes();
            ran += report.ran();
            lost += report.holes();
            twice += report.doubles();
            missed.addAll(report.missed());
            report.problems().forEach(p -> problems.add("job " + report.jobId() + ": " + p));
        }

        public synchronized List<String> problems() {
            return List.copyOf(problems);
        }

        public synchronized long lost() {
            return lost;
        }

        public synchronized long startedTwice() {
            return twice;
        }

        public synchronized List<String> missed() {
            return List.copyOf(missed);
        }

        /** The figures as JSON fields (no braces); missed reasons with their numbers and times blanked, each once. */
        public synchronized String jsonFields() {
            List<String> reasons = missed.stream()
                    .map(m -> m.substring(m.indexOf(": ") + 2).replaceAll("\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z", "<time>")
                            .replaceAll("\\d+(\\.\\d+)?", "<n>"))
                    .distinct().map(r -> "\"" + r.replace("\\", "\\\\").replace("\"", "\\\"") + "\"").toList();
            return "\"fire_times_checked\":" + checked + ",\"fire_times_ran\":" + ran + ",\"fire_times_lost\":" + lost
                    + ",\"fire_times_started_twice\":" + twice + ",\"fire_times_missed\":" + missed.size()
                    + ",\"missed_reasons\":" + reasons;
        }
    }

    private FireSequence() {
    }

    /**
     * Returns when the next whole second (a fire time of an every-second job) is
     * {@code offsetMillis} away, negative: that far past it; a test places a kill or a switchover
     * just before, at or just after a fire time. Time placement, not synchronisation.
     */
    public static void placeAtFireSecond(long offsetMillis) {
        long now = System.currentTimeMillis();
        long first = (now / 1000 + 1) * 1000 - offsetMillis;
        long target = first - now < 200 ? first + 1000 : first;
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(3)).pollDelay(java.time.Duration.ZERO)
                .pollInterval(java.time.Duration.ofMillis(5)).until(() -> System.currentTimeMillis() >= target);
    }

    /**
     * Checks the fire times of {@code jobId} (cron {@code cron} in UTC) from {@code from} up to
     * {@code until}, both included, against the executions of the database at {@code url}.
     */
    public static Report check(String url, UUID jobId, String cron, Instant from, Instant until) throws SQLException {
        // The first fire time at or after 'from' (fire times are whole seconds).
        Instant first = CronSchedules.nextAfter(cron, "UTC", from.minusNanos(1)).orElse(until.plusSeconds(1));
        List<Instant> expected = CronSchedules.between(cron, "UTC", first, until, 1_000_000);
        Map<Instant, List<String[]>> rows = new HashMap<>();
        try (Connection c = TestPostgres.connect(url);
             PreparedStatement s = c.prepareStatement("""
                     SELECT fire_time, status, reason FROM tandem.executions
                     WHERE job_id = ? AND fire_time >= ? AND fire_time <= ?""")) {
            s.setObject(1, jobId);
            s.setTimestamp(2, Timestamp.from(from));
            s.setTimestamp(3, Timestamp.from(until));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.computeIfAbsent(rs.getTimestamp(1).toInstant(), t -> new ArrayList<>())
                            .add(new String[] {rs.getString(2), rs.getString(3)});
                }
            }
        }
        List<String> problems = new ArrayList<>();
        List<String> missed = new ArrayList<>();
        int ran = 0;
        int holes = 0;
        int doubles = 0;
        for (Instant fireTime : expected) {
            List<String[]> found = rows.getOrDefault(fireTime, List.of());
            if (found.isEmpty()) {
                holes++;
                problems.add(fireTime + " neither ran nor was recorded missed");
            } else if (found.size() > 1) {
                doubles++;
                problems.add(fireTime + " has " + found.size() + " executions");
            } else if (found.get(0)[0].equals("missed")) {
                if (found.get(0)[1] == null || found.get(0)[1].isBlank()) {
                    problems.add(fireTime + " was recorded missed without a reason");
                }
                missed.add(fireTime + ": " + found.get(0)[1]);
            } else {
                ran++;
            }
        }
        for (Instant fireTime : rows.keySet()) {
            if (!expected.contains(fireTime)) {
                problems.add(fireTime + " is not a fire time of '" + cron + "' but has an execution");
            }
        }
        return new Report(jobId, from, until, expected.size(), ran, missed, holes, doubles, problems);
    }
}
