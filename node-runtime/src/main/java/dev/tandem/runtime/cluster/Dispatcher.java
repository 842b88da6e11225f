package dev.tandem.runtime.cluster;

import dev.tandem.runtime.api.ApiException;
import dev.tandem.runtime.execution.Execution;
import dev.tandem.runtime.execution.ExecutionService;
import dev.tandem.runtime.job.StoredJob;
import dev.tandem.runtime.project.ProjectRepository;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * Sends each run, from the API or from a schedule, where the project's remote execution policy
 * says: started here, or queued for another member (which picks it up through the database).
 */
public final class Dispatcher {
    private final String self;
    private final RemoteExecutionPolicy policy;
    private final MemberRepository members;
    private final ProjectRepository projects;
    private final ExecutionService executions;
    private final Decisions decisions;

    public Dispatcher(String self, RemoteExecutionPolicy policy, MemberRepository members, ProjectRepository projects,
                      ExecutionService executions, Decisions decisions) {
        this.self = self;
        this.policy = policy;
        this.members = members;
        this.projects = projects;
        this.executions = executions;
        this.decisions = decisions;
    }

    public Execution run(StoredJob job, Map<String, String> options, String user) {
        if (members.draining(self)) {
            throw new ApiException(503, "member " + self + " is draining and starts no new execution; use another member");
        }
        RemoteExecutionPolicy.Choice choice = choose(job);
        String target = choice.member().orElseThrow(() -> new ApiException(503, choice.reason()));
        if (target.equals(self)) {
            return executions.run(job, options, user);
        }
        decisions.record("policy", "run of '" + job.definition().fullName() + "' by " + user + ": " + choice.reason());
        return executions.queue(job, options, user, target, null);
    }

    /** A scheduled fire; true when this call started or queued it (false: already claimed, or recorded missed). */
    public boolean fire(StoredJob job, Instant fireTime) {
        RemoteExecutionPolicy.Choice choice = choose(job);
        if (choice.member().isEmpty()) {
            executions.recordMissed(job, fireTime, "missed: " + choice.reason());
            return false;
        }
        String target = choice.member().get();
        if (target.equals(self)) {
            return executions.fireScheduled(job, fireTime).isPresent();
        }
        decisions.record("policy", "fire of '" + job.definition().fullName() + "' at " + fireTime + ": " + choice.reason());
        return executions.queueScheduled(job, fireTime, target).isPresent();
    }

    private RemoteExecutionPolicy.Choice choose(StoredJob job) {
        Map<String, Object> config = projects.find(job.project()).map(p -> p.config()).orElse(Map.of());
        if (!(config.get("remoteExecution") instanceof Map<?, ?>)) {
            return new RemoteExecutionPolicy.Choice(Optional.of(self), "no policy");
        }
        return policy.choose(job.project(), config, self, members.list());
    }
}
