package dev.tandem.runtime.api;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.auth.AccessControl;
import dev.tandem.runtime.auth.Caller;
import dev.tandem.runtime.auth.Permission;
import dev.tandem.runtime.execution.Execution;
import dev.tandem.runtime.execution.ExecutionRepository;
import dev.tandem.runtime.execution.ExecutionService;
import dev.tandem.runtime.execution.ExecutionStatus;
import dev.tandem.runtime.job.JobRepository;
import dev.tandem.runtime.job.StoredJob;
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
    private final JobRepository jobs;
    private final LogStorage logs;
    private final Links links;
    private final AccessControl access;

    public ExecutionResource(ExecutionRepository executions, ExecutionService service, ProjectRepository projects, JobRepository jobs,
                             LogStorage logs, Links links, AccessControl access) {
        this.jobs = jobs;
        this.executions = executions;
        this.access = access;
        this.service = service;
        this.projects = projects;
        this.logs = logs;
        this.links = links;
    }

    /**
     * One execution. {@code executionType}: {@code scheduled}, {@code user}, {@code retry} or
     * {@code missed}; {@code scheduledFor}: the fire time a scheduled or missed one stands for;
     * {@code lateBy}: how long after it the run started (a missed one: was recorded), as an
     * ISO-8601 duration such as {@code PT2.4S}.
     */
    public record ExecutionView(UUID id, String project, UUID jobId, String job, String status, String reason,
                                String executionType, Instant scheduledFor, String lateBy,
                                Map<String, Object> options, String user, String member, Instant startedAt,
                                Instant endedAt, Long durationMillis, int attempt, UUID retryOf, String href, String outputHref) {}

    /**
     * {@code totalSize}: bytes of the log readable now; {@code sealed}: the log is whole (its writer
     * closed; read from shared storage, it was verified there); {@code completed}: it will not grow
     * and this page reached its end.
     */
    public record OutputView(UUID id, long offset, long nextOffset, long totalSize, boolean sealed, boolean completed, String execState,
                             List<LogEntry> entries) {}

    public record AbortView(String abort, String reason, ExecutionView execution) {}

    static ExecutionView view(Execution e, Links links) {
        Long duration = e.endedAt() == null ? null : e.endedAt().toEpochMilli() - e.startedAt().toEpochMilli();
        java.time.Duration late = e.lateBy();
        return new ExecutionView(e.id(), e.project(), e.jobId(), e.jobName(), e.status().sql(), e.reason(), e.type(), e.fireTime(),
                late == null ? null : late.toString(), e.options(), e.user(), e.memberId(), e.startedAt(), e.endedAt(), duration, e.attempt(), e.retryOf(), links.execution(e.id()), links.output(e.id()));
    }

    @GET
    @Path("executions/{id}")
    public ExecutionView get(@Auth Caller caller, @PathParam("id") String id) {
        Execution execution = executions.require(id);
        access.requireOn(caller, execution.project(), Permission.READ, "execution '" + id + "'");
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
        checkPage(status, max, offset);
        return executions.list(project.id(), status, max, offset).stream().map(e -> view(e, links)).toList();
    }

    /** A job's history, newest first: every run, retry and missed fire time, with the same filters as a project's list. */
    @GET
    @Path("jobs/{id}/executions")
    public List<ExecutionView> listOfJob(@Auth Caller caller, @PathParam("id") String id,
                                         @QueryParam("status") String status,
                                         @QueryParam("max") @DefaultValue("50") int max,
                                         @QueryParam("offset") @DefaultValue("0") int offset) {
        StoredJob job = jobs.require(id);
        access.requireOn(caller, job.project(), Permission.READ, "job '" + id + "'");
        checkPage(status, max, offset);
        return executions.listOfJob(job.id(), status, max, offset).stream().map(e -> view(e, links)).toList();
    }

    private static void checkPage(String status, int max, int offset) {
        if (status != null && !STATUSES.contains(status)) {
            throw Refusal.badRequest("status must be one of " + STATUSES.stream().sorted().toList(), "status");
        }
        if (max < 1 || max > 1000) {
            throw Refusal.badRequest("max must be between 1 and 1000", "max");
        }
        if (offset < 0) {
            throw Refusal.badRequest("offset must not be negative", "offset");
        }
    }

    @GET
    @Path("executions/{id}/output")
    public OutputView output(@Auth Caller caller, @PathParam("id") String id,
                             @QueryParam("offset") @DefaultValue("0") long offset,
                             @QueryParam("max") @DefaultValue("1000") int max,
                             @QueryParam("wait") @DefaultValue("0") int waitSeconds) throws InterruptedException {
        Execution execution = executions.require(id);
        access.requireOn(caller, execution.project(), Permission.READ, "execution '" + id + "'");
        if (offset < 0) {
            throw Refusal.badRequest("offset must not be negative", "offset");
        }
        if (max < 1 || max > 10000) {
            throw Refusal.badRequest("max must be between 1 and 10000", "max");
        }
        if (waitSeconds < 0 || waitSeconds > 60) {
            throw Refusal.badRequest("wait must be between 0 and 60 seconds", "wait");
        }
        long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
        while (true) {
            LogPage page = read(execution, offset, max);
            boolean completed = completed(execution, page);
            // Long poll: answer as soon as there is something new, the log is complete, or the wait is over.
            if (!page.entries().isEmpty() || completed || System.nanoTime() >= deadline) {
                return new OutputView(execution.id(), page.offset(), page.nextOffset(), page.totalSize(), page.sealed(), completed, execution.status().sql(),
                        page.entries());
            }
            Thread.sleep(FOLLOW_POLL_MILLIS);
            execution = executions.require(id);
        }
    }

    private static final long FOLLOW_POLL_MILLIS = 100;
    private static final java.time.Duration FOLLOW_MAX = java.time.Duration.ofMinutes(30);

    /**
     * Server-sent events: every line from {@code offset} (or the {@code Last-Event-ID} a
     * reconnecting client sends) as it reaches log storage, then an {@code end} event with the
     * final status once the log is complete. Each event's id is the offset to resume from.
     */
    @GET
    @Path("executions/{id}/output/follow")
    @Produces("text/event-stream")
    public jakarta.ws.rs.core.Response follow(@Auth Caller caller, @PathParam("id") String id,
                                              @QueryParam("offset") @DefaultValue("0") long offset,
                                              @jakarta.ws.rs.HeaderParam("Last-Event-ID") String lastEventId) {
        Execution first = executions.require(id);
        access.requireOn(caller, first.project(), Permission.READ, "execution '" + id + "'");
        long from;
        try {
            from = lastEventId == null || lastEventId.isBlank() ? offset : Long.parseLong(lastEventId.trim());
        } catch (NumberFormatException e) {
            throw Refusal.badRequest("Last-Event-ID must be an offset this stream sent", "Last-Event-ID");
        }
        if (from < 0) {
            throw Refusal.badRequest("offset must not be negative", "offset");
        }
        read(first, from, 1);
        jakarta.ws.rs.core.StreamingOutput stream = out -> {
            long position = from;
            Execution execution = first;
            long until = System.nanoTime() + FOLLOW_MAX.toNanos();
            java.io.Writer writer = new java.io.OutputStreamWriter(out, java.nio.charset.StandardCharsets.UTF_8);
            try {
                while (true) {
                    LogPage page = read(execution, position, 1000);
                    for (int i = 0; i < page.entries().size(); i++) {
                        if (i == page.entries().size() - 1) {
                            writer.write("id: " + page.nextOffset() + "\n");
                        }
                        writer.write("data: " + JSON.writeValueAsString(page.entries().get(i)) + "\n\n");
                    }
                    position = page.nextOffset();
                    if (completed(execution, page)) {
                        Map<String, String> end = new java.util.LinkedHashMap<>();
                        end.put("status", execution.status().sql());
                        end.put("reason", execution.reason() == null ? "" : execution.reason());
                        writer.write("event: end\ndata: " + JSON.writeValueAsString(end) + "\n\n");
                        writer.flush();
                        return;
                    }
                    if (System.nanoTime() > until) {
                        // A stream is bounded; the client reconnects with Last-Event-ID and goes on.
                        writer.write("event: timeout\ndata: {\"resumeFrom\":" + position + "}\n\n");
                        writer.flush();
                        return;
                    }
                    if (page.entries().isEmpty()) {
                        writer.write(": waiting\n\n");
                        writer.flush();
                        Thread.sleep(FOLLOW_POLL_MILLIS * 2);
                        execution = executions.require(id);
                    } else {
                        writer.flush();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        return jakarta.ws.rs.core.Response.ok(stream).header("Cache-Control", "no-cache").header("X-Accel-Buffering", "no").build();
    }

    /** The whole log as it is stored now, streamed: plain text (one line per entry) or a JSON array. */
    @GET
    @Path("executions/{id}/output/export")
    @Produces({MediaType.TEXT_PLAIN, MediaType.APPLICATION_JSON})
    public jakarta.ws.rs.core.Response export(@Auth Caller caller, @PathParam("id") String id,
                                              @QueryParam("format") @DefaultValue("text") String format) {
        Execution execution = executions.require(id);
        access.requireOn(caller, execution.project(), Permission.READ, "execution '" + id + "'");
        if (!format.equals("text") && !format.equals("json")) {
            throw Refusal.badRequest("format must be text or json", "format");
        }
        read(execution, 0, 1);
        boolean json = format.equals("json");
        jakarta.ws.rs.core.StreamingOutput stream = out -> {
            java.io.Writer writer = new java.io.BufferedWriter(new java.io.OutputStreamWriter(out, java.nio.charset.StandardCharsets.UTF_8));
            writer.write(json ? "[" : "");
            long position = 0;
            boolean firstEntry = true;
            while (true) {
                LogPage page = read(execution, position, 1000);
                for (LogEntry entry : page.entries()) {
                    if (json) {
                        writer.write((firstEntry ? "\n" : ",\n") + JSON.writeValueAsString(entry));
                    } else {
                        writer.write((entry.time() == null ? "-" : entry.time().toString()) + " [" + entry.node() + "] [" + entry.step() + "] "
                                + entry.stream() + (entry.level().equals("NORMAL") ? "" : " " + entry.level()) + ": " + entry.log() + "\n");
                    }
                    firstEntry = false;
                }
                if (page.entries().isEmpty() || page.nextOffset() >= page.totalSize()) {
                    break;
                }
                position = page.nextOffset();
            }
            writer.write(json ? "\n]\n" : "");
            writer.flush();
        };
        return jakarta.ws.rs.core.Response.ok(stream, json ? MediaType.APPLICATION_JSON : MediaType.TEXT_PLAIN + "; charset=utf-8")
                .header("Content-Disposition", "attachment; filename=\"execution-" + execution.id() + (json ? ".json" : ".txt") + "\"")
                .build();
    }

    private LogPage read(Execution execution, long offset, int max) {
        try {
            return logs.read(execution.id(), offset, max);
        } catch (IllegalArgumentException e) {
            throw Refusal.badRequest(e.getMessage(), "offset");
        }
    }

    /**
     * The log will not grow: the execution ended and its log is sealed in storage (read to its
     * end), or it ended without a member to seal it (incomplete: what was checkpointed is all
     * there is, until that member comes back; missed: it never ran).
     */
    private static boolean completed(Execution execution, LogPage page) {
        if (!execution.status().isFinal() || page.nextOffset() < page.totalSize()) {
            return false;
        }
        return page.sealed() || execution.status() == ExecutionStatus.INCOMPLETE || execution.status() == ExecutionStatus.MISSED;
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = io.dropwizard.jackson.Jackson.newObjectMapper()
            .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    @POST
    @Path("executions/{id}/abort")
    public AbortView abort(@Auth Caller caller, @PathParam("id") String id) throws InterruptedException {
        Execution execution = executions.require(id);
        access.requireOn(caller, execution.project(), Permission.RUN, "execution '" + id + "'");
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
