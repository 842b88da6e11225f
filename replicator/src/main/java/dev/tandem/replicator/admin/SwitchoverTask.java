package dev.tandem.replicator.admin;

import dev.tandem.replicator.failover.FailoverLoop;
import io.dropwizard.servlets.tasks.Task;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /tasks/switchover?to=<site>[&timeout=<seconds>]} on the active site's leading
 * replicator (admin port): a planned switchover that loses nothing (see {@link FailoverLoop#switchover}).
 */
public final class SwitchoverTask extends Task {
    private final FailoverLoop failover;

    public SwitchoverTask(FailoverLoop failover) {
        super("switchover");
        this.failover = failover;
    }

    @Override
    public void execute(Map<String, List<String>> parameters, PrintWriter output) {
        List<String> to = parameters.getOrDefault("to", List.of());
        if (to.isEmpty() || to.get(0).isBlank()) {
            output.println("refused: name the site to hand over to: POST /tasks/switchover?to=<site>");
            return;
        }
        long seconds;
        try {
            seconds = Long.parseLong(parameters.getOrDefault("timeout", List.of("60")).get(0));
        } catch (NumberFormatException e) {
            output.println("refused: timeout must be a number of seconds");
            return;
        }
        output.println(failover.switchover(to.get(0), Duration.ofSeconds(seconds)));
    }
}
