package dev.tandem.runtime.api;

import dev.tandem.runtime.auth.AccessControl;
import dev.tandem.runtime.auth.Caller;
import dev.tandem.runtime.auth.Permission;
import dev.tandem.runtime.execution.Execution;
import dev.tandem.runtime.execution.ExecutionRepository;
import dev.tandem.runtime.execution.ExecutionService;
import dev.tandem.runtime.execution.ExecutionStatus;
import dev.tandem.runtime.logs.LogEntry;
import dev.tandem.runtime.logs.LogPage;
import dev.tandem.runtime.logs.LogStorage;
import dev.tandem.runtime.project.Project;
import dev.tandem.runtime.project.ProjectRepository;
import io.dropwizard.auth.Auth;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
public final class ExecutionResource {
    private static final Set<String> STATUSES = java.util.Arrays.stream(ExecutionStatus.values()).map(ExecutionStatus::sql)
            .collect(java.util.stream.Collectors.toSet());

    private final ExecutionRepository executions;
    private final ExecutionService service;
    private final ProjectRepository projects;
    private final LogStorage logs;
    private final Links links;
    private final AccessControl access;

    public ExecutionResource(ExecutionRepository executions, ExecutionService service, ProjectRepository projects,
                             LogStorage logs, Links links, AccessControl access) {
        this.executions = executions;
        this.access = access;
        this.service = service;
        this.projects = projects;
        this.logs = logs;
        this.links = links;
    }

    public record ExecutionView(UUID id, String project, UUID jobId, String job, String status, String reason,
                                Map<String, Object> options, String user, String member, Instant startedAt,
                                Instant endedAt, Long durationMillis, int attempt, UUID retryOf, String href, String outputHref) {}

    public record OutputView(UUID id, long offset, long nextOffset, boolean completed, String execState,
                             List<LogEntry> entries) {}

    public record AbortView(String abort, String reason, ExecutionView execution) {}

    static ExecutionView view(Execution e, Links links) {
        Long duration = e.endedAt() == null ? null : e.endedAt().toEpochMilli() - e.startedAt().toEpochMilli();
        return new ExecutionView(e.id(), e.project(), e.jobId(), e.jobName(), e.status().sql(), e.reason(), e.options(),
                e.user(), e.memberId(), e.startedAt(), e.endedAt(), duration, e.attempt(), e.retryOf(), links.execution(e.id()), links.output(e.id()));
    }

    @GET
    @Path("executions/{id}")
    public ExecutionView get(@Auth Caller caller, @PathParam("id") String id) {
        Execution execution = executions.require(id);
        access.require(caller, execution.project(), Permission.READ);
        return view(execution, links);
    }

    @GET
    @Path("projects/{project}/executions")
    public List<ExecutionView> list(@Auth Caller caller, @PathParam("project") String projectName,
                                    @QueryParam("status") String status,
                                    @QueryParam("max") @DefaultValue("50") int max,
                                    @QueryParam("offset") @DefaultValue("0") int offset) {
        access.require(caller, projectName, Permission.READ);
        Project project = projects.require(projectName);
        if (status != null && !STATUSES.contains(status)) {
            throw ApiException.badRequest("status must be one of " + STATUSES.stream().sorted().toList(), "status");
        }
        if (max < 1 || max > 1000) {
            throw ApiException.badRequest("max must be between 1 and 1000", "max");
        }
        if (offset < 0) {
            throw ApiException.badRequest("offset must not be negative", "offset");
        }
        return executions.list(project.id(), status, max, offset).stream().map(e -> view(e, links)).toList();
    }

    @GET
    @Path("executions/{id}/output")
    public OutputView output(@Auth Caller caller, @PathParam("id") String id,
                             @QueryParam("offset") @DefaultValue("0") long offset,
                             @QueryParam("max") @DefaultValue("1000") int max) {
        Execution execution = executions.require(id);
        access.require(caller, execution.project(), Permission.READ);
        if (offset < 0) {
            throw ApiException.badRequest("offset must not be negative", "offset");
        }
        if (max < 1 || max > 10000) {
            throw ApiException.badRequest("max must be between 1 and 10000", "max");
        }
        LogPage page;
        try {
            page = logs.read(execution.id(), offset, max);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage(), "offset");
        }
        boolean ended = execution.status() != ExecutionStatus.RUNNING;
        boolean completed = ended && page.nextOffset() >= page.totalSize();
        return new OutputView(execution.id(), page.offset(), page.nextOffset(), completed, execution.status().sql(), page.entries());
    }

    @POST
    @Path("executions/{id}/abort")
    public AbortView abort(@Auth Caller caller, @PathParam("id") String id) throws InterruptedException {
        Execution execution = executions.require(id);
        access.require(caller, execution.project(), Permission.RUN);
        boolean here = service.abort(execution, caller.userName());
        long deadline = System.nanoTime() + 2_000_000_000L;
        Execution now = execution;
        while (System.nanoTime() < deadline) {
            now = executions.require(id);
            if (now.status() != ExecutionStatus.RUNNING) {
                return new AbortView(now.status() == ExecutionStatus.ABORTED ? "aborted" : "ended", now.reason(), view(now, links));
            }
            Thread.sleep(20);
        }
        return new AbortView("pending", here ? "the process tree is being stopped" : "member " + now.memberId() + " will stop it", view(now, links));
    }
}
