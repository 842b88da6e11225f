package dev.tandem.replicator.admin;

import dev.tandem.replicator.failover.FailoverLoop;
import io.dropwizard.servlets.tasks.Task;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/fence?reason=...} (admin port): fences this site now. No runtime write
 * commits after it; schedules stop and running executions are aborted.
 */
public final class FenceTask extends Task {
    private final FailoverLoop failover;

    public FenceTask(FailoverLoop failover) {
        super("fence");
        this.failover = failover;
    }

    @Override
    public void execute(Map<String, List<String>> parameters, PrintWriter output) {
        List<String> reason = parameters.getOrDefault("reason", List.of());
        output.println(failover.fence(reason.isEmpty() || reason.get(0).isBlank() ? "no reason given" : reason.get(0)));
    }
}
