package dev.tandem.runtime.api;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.auth.AccessControl;
import dev.tandem.runtime.auth.Caller;
import dev.tandem.runtime.auth.Permission;
import dev.tandem.runtime.logs.LogStorage;
import dev.tandem.runtime.project.Project;
import dev.tandem.runtime.project.ProjectRepository;
import io.dropwizard.auth.Auth;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public final class ProjectResource {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]{0,99}");

    private final ProjectRepository projects;
    private final LogStorage logs;
    private final Links links;
    private final AccessControl access;
    private final List<java.nio.file.Path> fileSourceDirs;

    public ProjectResource(ProjectRepository projects, LogStorage logs, Links links, AccessControl access,
                           List<java.nio.file.Path> fileSourceDirs) {
        this.projects = projects;
        this.fileSourceDirs = fileSourceDirs;
        this.access = access;
        this.logs = logs;
        this.links = links;
    }

    public record NewProject(String name, String description, Map<String, Object> config) {}

    public record ProjectView(UUID id, String name, String description, Map<String, Object> config, Instant createdAt,
                              Instant updatedAt, String href) {}

    @POST
    @Path("projects")
    public Response create(@Auth Caller caller, NewProject body) {
        access.requireAdmin(caller, "create projects");
        if (body == null || body.name() == null) {
            throw Refusal.badRequest("a project needs a 'name'", "name");
        }
        if (!NAME.matcher(body.name()).matches()) {
            throw Refusal.badRequest("project name '" + body.name() + "' may hold only letters, digits, '_', '.' and '-' (at most 100)", "name");
        }
        checkConfig(body.config());
        Project project = projects.create(body.name(), body.description() == null ? "" : body.description(),
                body.config() == null ? Map.of() : body.config());
        return Response.created(URI.create(links.project(project.name()))).entity(view(project)).build();
    }

    @GET
    @Path("projects")
    public List<ProjectView> list(@Auth Caller caller) {
        return projects.list().stream().filter(p -> access.allows(caller, p.name(), Permission.READ)).map(this::view).toList();
    }

    @GET
    @Path("projects/{project}")
    public ProjectView get(@Auth Caller caller, @PathParam("project") String name) {
        access.require(caller, name, Permission.READ);
        return view(projects.require(name));
    }

    @DELETE
    @Path("projects/{project}")
    public Response delete(@Auth Caller caller, @PathParam("project") String name) {
        access.require(caller, name, Permission.ADMIN);
        List<UUID> executions = projects.delete(name);
        executions.forEach(logs::delete);
        return Response.noContent().build();
    }

    @GET
    @Path("projects/{project}/config")
    public Map<String, Object> config(@Auth Caller caller, @PathParam("project") String name) {
        access.require(caller, name, Permission.READ);
        return projects.require(name).config();
    }

    @PUT
    @Path("projects/{project}/config")
    public Map<String, Object> putConfig(@Auth Caller caller, @PathParam("project") String name, Map<String, Object> config) {
        access.require(caller, name, Permission.ADMIN);
        if (config == null) {
            throw Refusal.badRequest("the body must be a JSON object with the project configuration", "body");
        }
        checkConfig(config);
        dev.tandem.runtime.nodes.NodeSources.hostAccess(config.get("nodeSources"), projects.require(name).config().get("nodeSources"),
                fileSourceDirs).ifPresent(what -> access.requireAdmin(caller, what));
        return projects.updateConfig(name, new LinkedHashMap<>(config)).config();
    }

    private static void checkConfig(Map<String, Object> config) {
        if (config != null) {
            dev.tandem.runtime.cluster.RemoteExecutionPolicy.problem(config.get("remoteExecution")).ifPresent(p -> {
                throw Refusal.badRequest(p[1], p[0]);
            });
            dev.tandem.runtime.nodes.NodeSources.problem(config.get("nodeSources")).ifPresent(p -> {
                throw Refusal.badRequest(p[1], p[0]);
            });
        }
    }

    private ProjectView view(Project p) {
        return new ProjectView(p.id(), p.name(), p.description(), p.config(), p.createdAt(), p.updatedAt(), links.project(p.name()));
    }
}
