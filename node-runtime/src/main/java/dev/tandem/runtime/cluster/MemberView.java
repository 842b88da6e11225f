package dev.tandem.runtime.cluster;

import java.time.Instant;
import java.util.List;

/** A member as the cluster manager shows it. */
public record MemberView(String id, String name, String url, List<String> tags, String state, long heartbeatAgeMillis,
                         Instant startedAt, int ownedSchedules, int activeExecutions, double threadRatio, double systemLoad,
                         boolean draining, boolean schedulesPaused, String takenOverBy) {}
