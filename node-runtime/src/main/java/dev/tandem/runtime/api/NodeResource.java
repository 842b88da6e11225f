package dev.tandem.runtime.api;

import dev.tandem.runtime.auth.AccessControl;
import dev.tandem.runtime.auth.Caller;
import dev.tandem.runtime.auth.Permission;
import dev.tandem.runtime.nodes.Node;
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
 * Which nodes of a project a Rundeck node filter selects. The runtime host is always a node;
 * node sources (files, scripts, URLs) add the others (issue 9).
 */
@Path("/api/v1/projects/{project}/nodes")
@Produces(MediaType.APPLICATION_JSON)
public final class NodeResource {
    private final ProjectRepository projects;
    private final AccessControl access;
    private final Node localHost;

    public NodeResource(ProjectRepository projects, AccessControl access, Node localHost) {
        this.projects = projects;
        this.access = access;
        this.localHost = localHost;
    }

    public record Selection(String filter, List<Node> nodes) {}

    @GET
    public Selection select(@Auth Caller caller, @PathParam("project") String project, @QueryParam("filter") @DefaultValue(".*") String filter) {
        access.require(caller, project, Permission.READ);
        projects.require(project);
        NodeFilter parsed;
        try {
            parsed = NodeFilter.parse(filter);
        } catch (NodeFilter.FilterException e) {
            throw ApiException.badRequest("malformed node filter: " + e.getMessage(), "filter, position " + e.position());
        }
        return new Selection(filter, parsed.select(List.of(localHost)));
    }
}
