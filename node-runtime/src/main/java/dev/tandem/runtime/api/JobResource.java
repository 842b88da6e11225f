package dev.tandem.runtime.api;

import dev.tandem.runtime.refusal.Refusal;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.tandem.runtime.auth.AccessControl;
import dev.tandem.runtime.auth.Caller;
import dev.tandem.runtime.auth.Permission;
import dev.tandem.runtime.execution.Execution;
import dev.tandem.runtime.job.ImportProblem;
import dev.tandem.runtime.job.ImportedJob;
import dev.tandem.runtime.job.JobOption;
import dev.tandem.runtime.job.Step;
import dev.tandem.runtime.keys.KeyScope;
import dev.tandem.runtime.job.JobRepository;
import dev.tandem.runtime.job.JobImportException;
import dev.tandem.runtime.job.JobValidator;
import dev.tandem.runtime.job.StoredJob;
import dev.tandem.runtime.job.ValidatedJob;
import dev.tandem.runtime.job.YamlTree;
import dev.tandem.runtime.project.Project;
import dev.tandem.runtime.project.ProjectRepository;
import io.dropwizard.auth.Auth;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
public final class JobResource {
    public static final String YAML = "application/yaml";

    private final ProjectRepository projects;
    private final JobRepository jobs;
    private final dev.tandem.runtime.cluster.Dispatcher dispatcher;
    private final JobValidator validator = new JobValidator();
    private final ObjectMapper yaml;
    private final Links links;
    private final ApiLimits limits;
    private final KeyScope keyScope;
    private final ObjectMapper json = new ObjectMapper();
    private final String memberId;
    private final AccessControl access;

    public JobResource(ProjectRepository projects, JobRepository jobs, dev.tandem.runtime.cluster.Dispatcher dispatcher, Links links,
                       ApiLimits limits, KeyScope keyScope, String memberId, AccessControl access) {
        this.keyScope = keyScope;
        this.projects = projects;
        this.access = access;
        this.jobs = jobs;
        this.dispatcher = dispatcher;
        this.links = links;
        this.limits = limits;
        this.memberId = memberId;
        this.yaml = new ObjectMapper(YAMLFactory.builder()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
                .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                .build());
    }

    public record ImportResult(String project, int created, int updated, List<ImportedJobView> jobs) {}

    public record ImportedJobView(int index, UUID id, String uuid, String name, String group, String action,
                                  List<String> warnings, String href) {}

    public record JobView(UUID id, String uuid, String name, String group, String project, String description,
                          Instant createdAt, Instant updatedAt, String href, Map<String, Object> definition) {}

    public record RunRequest(Map<String, String> options) {}

    @POST
    @Path("projects/{project}/jobs/import")
    @Consumes({YAML, "application/x-yaml", "text/yaml", "text/x-yaml", MediaType.TEXT_PLAIN, MediaType.APPLICATION_JSON})
    public ImportResult importJobs(@Auth Caller caller, @PathParam("project") String projectName, InputStream body) throws IOException {
        access.require(caller, projectName, Permission.WRITE);
        Project project = projects.require(projectName);
        String text = readBounded(body);
        List<ValidatedJob> validated = validator.validate(YamlTree.parse(text, (int) limits.maxImportBytes()));
        checkStoredLength(validated);
        checkProjectWalls(caller, project.name(), validated);
        checkScheduleRate(project, validated);
        List<ImportedJob> imported = jobs.importJobs(project.id(), project.name(), validated, memberId, caller.userName());
        List<ImportedJobView> views = imported.stream()
                .map(j -> new ImportedJobView(j.index(), j.id(), j.uuid(), j.name(), j.group(), j.action(), j.warnings(), links.job(j.id())))
                .toList();
        int created = (int) imported.stream().filter(j -> j.action().equals("created")).count();
        return new ImportResult(project.name(), created, imported.size() - created, views);
    }

    @GET
    @Path("projects/{project}/jobs")
    public List<JobView> list(@Auth Caller caller, @PathParam("project") String projectName) {
        access.require(caller, projectName, Permission.READ);
        Project project = projects.require(projectName);
        return jobs.list(project.id()).stream().map(j -> view(j, false)).toList();
    }

    @GET
    @Path("projects/{project}/jobs/export")
    @Produces(YAML)
    public Response export(@Auth Caller caller, @PathParam("project") String projectName) {
        access.require(caller, projectName, Permission.READ);
        Project project = projects.require(projectName);
        List<Map<String, Object>> documents = jobs.list(project.id()).stream().map(StoredJob::shownDocument).toList();
        return Response.ok(toYaml(documents), YAML)
                .header("Content-Disposition", "attachment; filename=\"" + project.name() + "-jobs.yaml\"")
                .build();
    }

    @GET
    @Path("jobs/{id}")
    @Produces({MediaType.APPLICATION_JSON, YAML})
    public Response get(@Auth Caller caller, @PathParam("id") String id, @QueryParam("format") String format) {
        StoredJob job = jobs.require(id);
        access.requireOn(caller, job.project(), Permission.READ, "job '" + id + "'");
        if ("yaml".equalsIgnoreCase(format)) {
            return Response.ok(toYaml(List.of(job.shownDocument())), YAML).build();
        }
        if (format != null && !format.equalsIgnoreCase("json")) {
            throw Refusal.badRequest("format must be json or yaml, not '" + format + "'", "format");
        }
        return Response.ok(view(job, true), MediaType.APPLICATION_JSON_TYPE).build();
    }

    @DELETE
    @Path("jobs/{id}")
    public Response delete(@Auth Caller caller, @PathParam("id") String id) {
        StoredJob job = jobs.require(id);
        access.requireOn(caller, job.project(), Permission.WRITE, "job '" + id + "'");
        if (!jobs.delete(job.id())) {
            throw Refusal.notFound("job '" + id + "'");
        }
        return Response.noContent().build();
    }

    @POST
    @Path("jobs/{id}/run")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response run(@Auth Caller caller, @PathParam("id") String id, RunRequest request) {
        StoredJob job = jobs.require(id);
        access.requireOn(caller, job.project(), Permission.RUN, "job '" + id + "'");
        Map<String, String> options = request == null || request.options() == null ? Map.of() : request.options();
        Execution execution = dispatcher.run(job, options, caller.userName());
        return Response.created(URI.create(links.execution(execution.id())))
                .entity(ExecutionResource.view(execution, links))
                .build();
    }

    /**
     * What a job reaches outside its project is refused at import as at run time: a secure
     * option reads only keys its project may use, and a job reference into another project needs
     * {@code run} there for the importing user. References computed from options are checked when they run.
     */
    private void checkProjectWalls(Caller caller, String project, List<ValidatedJob> validated) {
        List<ImportProblem> keyProblems = new ArrayList<>();
        List<ImportProblem> problems = new ArrayList<>();
        for (ValidatedJob job : validated) {
            String where = "job[" + job.index() + "] '" + job.definition().fullName() + "'";
            for (JobOption option : job.definition().options()) {
                if (option.storagePath() != null && !keyScope.allows(project, option.storagePath())) {
                    keyProblems.add(new ImportProblem("option '" + option.name() + "': " + keyScope.refusal(project, option.storagePath()),
                            where + " options." + option.name() + ".storagePath"));
                }
            }
            int index = 0;
            for (Step step : job.definition().steps()) {
                index++;
                List<Step> both = new ArrayList<>(List.of(step));
                step.errorHandler().ifPresent(both::add);
                for (Step s : both) {
                    if (s instanceof Step.JobRef ref) {
                        String at = where + " step " + index;
                        referencedProject(ref, project).filter(target -> !target.equals(project))
                                .filter(target -> !access.allows(caller, target, Permission.RUN))
                                .ifPresent(target -> problems.add(new ImportProblem("the job reference runs a job of project '" + target
                                        + "', where " + caller.userName() + " lacks 'run'", at)));
                    }
                }
            }
        }
        if (!keyProblems.isEmpty()) {
            throw new JobImportException(Refusal.Kind.INVALID, keyProblems);
        }
        if (!problems.isEmpty()) {
            throw new JobImportException(Refusal.Kind.FORBIDDEN, problems);
        }
    }

    /** The project a reference names literally (by project, or by the uuid of a stored job), if it does. */
    private Optional<String> referencedProject(Step.JobRef ref, String project) {
        if (ref.uuid() != null) {
            return ref.uuid().contains("${") ? Optional.empty() : jobs.find(ref.uuid()).map(StoredJob::project);
        }
        if (ref.project() == null) {
            return Optional.of(project);
        }
        return ref.project().contains("${") ? Optional.empty() : Optional.of(ref.project());
    }

    /**
     * A project's schedules together fire at most {@code api.maxScheduledFiresPerMinute} times a
     * minute (counted over the next ten minutes), so one project's writers cannot flood the
     * cluster's execution threads with schedules.
     */
    private void checkScheduleRate(Project project, List<ValidatedJob> validated) {
        java.time.Instant now = java.time.Instant.now();
        java.time.Instant until = now.plus(java.time.Duration.ofMinutes(10));
        int allowed = limits.maxScheduledFiresPerMinute() * 10;
        java.util.Set<String> replaced = new java.util.HashSet<>();
        int fires = 0;
        for (ValidatedJob job : validated) {
            replaced.add(job.definition().fullName());
            if (job.definition().uuid() != null) {
                replaced.add(job.definition().uuid());
            }
            fires += firesUntil(job.definition(), now, until, allowed + 1);
        }
        for (StoredJob stored : jobs.list(project.id())) {
            if (fires > allowed) {
                break;
            }
            if (!replaced.contains(stored.uuid()) && !replaced.contains(stored.definition().fullName())) {
                fires += firesUntil(stored.definition(), now, until, allowed + 1);
            }
        }
        if (fires > allowed) {
            throw new Refusal(Refusal.Kind.INVALID, "project '" + project.name() + "' would fire more than " + allowed + " scheduled executions in the next 10 minutes; the limit is " + limits.maxScheduledFiresPerMinute()
                    + " a minute (api.maxScheduledFiresPerMinute)", "schedule");
        }
    }

    private static int firesUntil(dev.tandem.runtime.job.JobDefinition job, java.time.Instant now, java.time.Instant until, int limit) {
        if (!job.scheduled()) {
            return 0;
        }
        return dev.tandem.runtime.cluster.CronSchedules.nextAfter(job.cron(), job.timeZone(), now)
                .map(first -> dev.tandem.runtime.cluster.CronSchedules.between(job.cron(), job.timeZone(), first, until, limit).size())
                .orElse(0);
    }

    /** Each job is stored as one JSON value; bound it so no single job weighs on the database and the stream. */
    private void checkStoredLength(List<ValidatedJob> validated) throws IOException {
        for (ValidatedJob job : validated) {
            int length = json.writeValueAsString(job.document()).length();
            if (length > limits.maxJobDefinitionLength()) {
                throw JobImportException.of(Refusal.Kind.INVALID, "job '" + job.definition().fullName() + "' is " + length
                        + " characters when stored; the limit is " + limits.maxJobDefinitionLength() + " (api.maxJobDefinitionLength)",
                        "job[" + job.index() + "]");
            }
        }
    }

    private String readBounded(InputStream body) throws IOException {
        byte[] bytes = body.readAllBytes(); // bounded by RequestSizeLimit (api.maxImportSize)
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw Refusal.badRequest("the import is not valid UTF-8 text", "body");
        }
    }

    private String toYaml(Object value) {
        try {
            return yaml.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write YAML: " + e.getOriginalMessage(), e);
        }
    }

    private JobView view(StoredJob job, boolean withDefinition) {
        Object description = job.document().get("description");
        return new JobView(job.id(), job.uuid(), job.name(), job.group(), job.project(),
                description == null ? "" : description.toString(), job.createdAt(), job.updatedAt(), links.job(job.id()),
                withDefinition ? new LinkedHashMap<>(job.shownDocument()) : null);
    }
}
