package dev.tandem.replicator.status;

import com.codahale.metrics.health.HealthCheck;
import dev.tandem.replicator.cluster.ReplicationController;

/** Red when replication needs an operator: slot invalidated, schema mismatch, capture failing. */
public final class ReplicationHealthCheck extends HealthCheck {
    private final ReplicationController controller;

    public ReplicationHealthCheck(ReplicationController controller) {
        this.controller = controller;
    }

    @Override
    protected Result check() {
        String problem = controller.problem();
        if (problem != null) {
            return Result.unhealthy(problem);
        }
        return Result.healthy("mode " + controller.mode().name().toLowerCase() + ": " + controller.decisions().last());
    }
}
