package dev.tandem.runtime.cluster;

import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.execution.Execution;
import dev.tandem.runtime.execution.ExecutionService;
import dev.tandem.runtime.job.StoredJob;
import dev.tandem.runtime.project.ProjectRepository;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

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
            throw new Refusal(Refusal.Kind.UNAVAILABLE, "member " + self + " is draining and starts no new execution; use another member");
        }
        RemoteExecutionPolicy.Choice choice = choose(job);
        String target = choice.member().orElseThrow(() -> new Refusal(Refusal.Kind.UNAVAILABLE, choice.reason()));
        if (target.equals(self)) {
            return executions.run(job, options, user);
        }
        decisions.record("policy", "run of '" + job.definition().fullName() + "' by " + user + ": " + choice.reason());
        return executions.queue(job, options, user, target, null);
    }

    /**
     * Where a scheduled fire goes, by the project's policy: this member, another one (the decision
     * is recorded), or none (the reason says why). The project's configuration and the member list
     * are read once per batch of fires by the caller.
     */
    public RemoteExecutionPolicy.Choice target(StoredJob job, Instant fireTime, Map<String, Object> projectConfig,
                                               Supplier<List<MemberView>> memberList) {
        RemoteExecutionPolicy.Choice choice = choose(job, projectConfig, memberList);
        if (choice.member().isPresent() && !choice.member().get().equals(self)) {
            decisions.record("policy", "fire of '" + job.definition().fullName() + "' at " + fireTime + ": " + choice.reason());
        }
        return choice;
    }

    private RemoteExecutionPolicy.Choice choose(StoredJob job) {
        return choose(job, projects.find(job.project()).map(p -> p.config()).orElse(Map.of()), members::list);
    }

    private RemoteExecutionPolicy.Choice choose(StoredJob job, Map<String, Object> config, Supplier<List<MemberView>> memberList) {
        if (!(config.get("remoteExecution") instanceof Map<?, ?>)) {
            return new RemoteExecutionPolicy.Choice(Optional.of(self), "no policy");
        }
        return policy.choose(job.project(), config, self, memberList.get());
    }
}
