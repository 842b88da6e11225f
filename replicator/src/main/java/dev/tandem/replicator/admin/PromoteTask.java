package dev.tandem.replicator.admin;

import dev.tandem.replicator.failover.FailoverLoop;
import io.dropwizard.servlets.tasks.Task;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/promote} on a passive site's replicator (admin port): without parameters it
 * says what a forced promotion may lose; with {@code confirm=<this site's id>} it promotes.
 */
public final class PromoteTask extends Task {
    private final String siteId;
    private final FailoverLoop failover;

    public PromoteTask(String siteId, FailoverLoop failover) {
        super("promote");
        this.siteId = siteId;
        this.failover = failover;
    }

    @Override
    public void execute(Map<String, List<String>> parameters, PrintWriter output) {
        List<String> confirm = parameters.getOrDefault("confirm", List.of());
        if (!confirm.isEmpty() && !confirm.contains(siteId)) {
            output.println("not promoted: confirm=" + confirm.get(0) + " does not name this site ('" + siteId + "')");
            return;
        }
        output.println(failover.forcePromote(confirm.contains(siteId)));
    }
}
