package dev.tandem.runtime.api;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.auth.AccessControl;
import dev.tandem.runtime.auth.Caller;
import dev.tandem.runtime.auth.Permission;
import dev.tandem.runtime.nodes.NodeSource;
import dev.tandem.runtime.nodes.Node;
import dev.tandem.runtime.nodes.NodeSources;
import dev.tandem.runtime.nodes.NodeFilter;
import dev.tandem.runtime.project.ProjectRepository;
import io.dropwizard.auth.Auth;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/**
 * Which nodes of a project a Rundeck node filter selects: the runtime host, plus the nodes of
 * the project's node sources (resource model files for now; scripts and URLs come next).
 */
@Path("/api/v1/projects/{project}/nodes")
@Produces(MediaType.APPLICATION_JSON)
public final class NodeResource {
    private final ProjectRepository projects;
    private final AccessControl access;
    private final NodeSources sources;

    public NodeResource(ProjectRepository projects, AccessControl access, NodeSources sources) {
        this.projects = projects;
        this.access = access;
        this.sources = sources;
    }

    public record Selection(String filter, List<Node> nodes, List<NodeSource.Status> sources) {}

    @GET
    public Selection select(@Auth Caller caller, @PathParam("project") String project, @QueryParam("filter") @DefaultValue(".*") String filter) {
        access.require(caller, project, Permission.READ);
        NodeSources.Model model = sources.model(projects.require(project).config());
        NodeFilter parsed;
        try {
            parsed = NodeFilter.parse(filter);
        } catch (NodeFilter.FilterException e) {
            throw Refusal.badRequest("malformed node filter: " + e.getMessage(), "filter, position " + e.position());
        }
        return new Selection(filter, parsed.select(model.nodes()), model.sources());
    }
}
