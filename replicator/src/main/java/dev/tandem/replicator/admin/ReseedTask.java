package dev.tandem.replicator.admin;

import dev.tandem.replicator.cluster.ReplicationController;
import io.dropwizard.servlets.tasks.Task;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/reseed} (admin port). On a passive site: replace the site's replicated data
 * with a fresh copy of the active site, then stream from there. On a fenced former active site:
 * the failback — its divergence report first, then the copy (see {@code FailoverLoop#failback}).
 */
public final class ReseedTask extends Task {
    private final ReplicationController controller;
    private final dev.tandem.replicator.failover.FailoverLoop failover;

    public ReseedTask(ReplicationController controller, dev.tandem.replicator.failover.FailoverLoop failover) {
        super("reseed");
        this.controller = controller;
        this.failover = failover;
    }

    @Override
    public void execute(Map<String, List<String>> parameters, PrintWriter output) {
        dev.tandem.kernel.site.SiteState site = controller.currentSite();
        boolean former = site.role() == dev.tandem.kernel.site.SiteRole.FENCED
                || site.role() == dev.tandem.kernel.site.SiteRole.ACTIVE && site.leaseLapsed();
        output.println(former ? failover.failback() : controller.requestReseed());
    }
}
