package dev.tandem.runtime.execution;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * An execution as stored. Secure option values are never part of {@code options}.
 *
 * @param fireTime the scheduled fire time it ran (or was recorded missed) for; null when a user or a retry started it
 */
public record Execution(UUID id, String project, UUID jobId, String jobName, ExecutionStatus status, String reason,
                        Map<String, Object> options, String user, String memberId, Instant startedAt, Instant endedAt,
                        int attempt, UUID retryOf, Instant fireTime) {

    /** What started it, in Rundeck's words where Rundeck has them: {@code scheduled}, {@code user}, {@code retry}, {@code missed}. */
    public String type() {
        if (status == ExecutionStatus.MISSED) {
            return "missed";
        }
        if (retryOf != null) {
            return "retry";
        }
        return fireTime != null ? "scheduled" : "user";
    }

    /**
     * How long after its fire time a scheduled execution started (a missed one: was recorded);
     * null for the others. Late starts come from hand-overs, restarts and a busy scheduler.
     */
    public Duration lateBy() {
        if (fireTime == null) {
            return null;
        }
        Instant at = status == ExecutionStatus.MISSED && endedAt != null ? endedAt : startedAt;
        return Duration.between(fireTime, at);
    }
}
