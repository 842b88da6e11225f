package dev.tandem.replicator.admin;

import com.codahale.metrics.health.HealthCheck;
import dev.tandem.replicator.apply.ApplyStats;
import dev.tandem.replicator.cluster.ReplicationController;
import java.time.Duration;

/**
 * Red when replication needs an operator: slot invalidated, schema mismatch, capture failing or
 * stalled, apply stopped or stalled — and apply stuck by any cause: the active site commits a
 * heartbeat every interval, so a passive site that applied none for {@link #STUCK_AFTER_INTERVALS}
 * intervals receives nothing, whatever the apply loop believes (a frame it cannot take, a stream
 * that never connects, the active site gone).
 */
public final class ReplicationHealthCheck extends HealthCheck {
    static final int STUCK_AFTER_INTERVALS = 10;

    private final ReplicationController controller;
    private final ApplyStats applyStats;
    private final Duration interval;
    private final long startedNanos = System.nanoTime();

    public ReplicationHealthCheck(ReplicationController controller, ApplyStats applyStats, Duration interval) {
        this.controller = controller;
        this.applyStats = applyStats;
        this.interval = interval;
    }

    @Override
    protected Result check() {
        String problem = controller.problem();
        if (problem != null) {
            return Result.unhealthy(problem);
        }
        if (controller.mode() == ReplicationController.Mode.APPLY) {
            long age = applyStats.heartbeatAgeMillis();
            long since = age >= 0 ? age : (System.nanoTime() - startedNanos) / 1_000_000;
            if (since > STUCK_AFTER_INTERVALS * interval.toMillis()) {
                String last = controller.applyProblem();
                return Result.unhealthy("apply stuck: " + (age >= 0 ? "no heartbeat of the active site applied for " + since / 1000 + " s"
                        : "no heartbeat of the active site applied since this replicator started " + since / 1000 + " s ago")
                        + ", although the active site commits one every " + interval.toMillis() + " ms"
                        + (last == null ? "" : "; last problem: " + last));
            }
        }
        return Result.healthy("mode " + controller.mode().name().toLowerCase() + ": " + controller.decisions().last());
    }
}
