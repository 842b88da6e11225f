package dev.tandem.replicator.status;

import dev.tandem.replicator.cluster.ReplicationController;
import io.dropwizard.servlets.tasks.Task;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/reseed} on a passive site's replicator (admin port): replace the site's
 * replicated data with a fresh copy of the active site, then stream from there.
 */
public final class ReseedTask extends Task {
    private final ReplicationController controller;

    public ReseedTask(ReplicationController controller) {
        super("reseed");
        this.controller = controller;
    }

    @Override
    public void execute(Map<String, List<String>> parameters, PrintWriter output) {
        output.println(controller.requestReseed());
    }
}
