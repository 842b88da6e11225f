package dev.tandem.runtime.execution;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** An execution as stored. Secure option values are never part of {@code options}. */
public record Execution(UUID id, String project, UUID jobId, String jobName, ExecutionStatus status, String reason,
                        Map<String, Object> options, String user, String memberId, Instant startedAt, Instant endedAt,
                        int attempt, UUID retryOf) {}
