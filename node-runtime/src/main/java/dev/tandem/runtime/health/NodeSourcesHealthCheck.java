package dev.tandem.runtime.health;

import com.codahale.metrics.health.HealthCheck;
import dev.tandem.runtime.nodes.NodeSource;
import dev.tandem.runtime.nodes.NodeSources;
import dev.tandem.runtime.project.Project;
import dev.tandem.runtime.project.ProjectRepository;
import java.util.ArrayList;
import java.util.List;

/**
 * Unhealthy while any project's node source fails (it then serves its last good nodes, which
 * may be stale): names the project, the source and the failure. It reports the state of the
 * last read (by a run or a node listing) and never reads a source itself, so a slow script or
 * URL cannot slow the health check down.
 */
public final class NodeSourcesHealthCheck extends HealthCheck {
    private final ProjectRepository projects;
    private final NodeSources sources;

    public NodeSourcesHealthCheck(ProjectRepository projects, NodeSources sources) {
        this.projects = projects;
        this.sources = sources;
    }

    @Override
    protected Result check() {
        List<String> failing = new ArrayList<>();
        int total = 0;
        for (Project project : projects.list()) {
            for (NodeSource.Status status : sources.readStatuses(project.config())) {
                total++;
                if (!status.healthy()) {
                    failing.add("project " + project.name() + ", " + status.source() + ": " + status.message()
                            + " (serving its last " + status.nodes() + " good node(s))");
                }
            }
        }
        if (!failing.isEmpty()) {
            return Result.unhealthy(failing.size() + " of " + total + " node source(s) failing: " + String.join("; ", failing));
        }
        return Result.healthy(total + " node source(s) healthy");
    }
}
