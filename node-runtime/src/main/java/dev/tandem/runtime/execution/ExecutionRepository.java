package dev.tandem.runtime.execution;

import dev.tandem.kernel.site.SiteGate;
import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.db.Json;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/** All SQL about executions. State changes go through the {@link SiteGate}. */
public final class ExecutionRepository {
    private static final String COLUMNS = """
            e.id, p.name, e.job_id, e.job_name, e.status, e.reason, e.options::text, e.user_name, e.member_id,
            e.started_at, e.ended_at, e.attempt, e.retry_of, e.fire_time""";
    private static final String FROM = " FROM tandem.executions e JOIN tandem.projects p ON p.id = e.project_id ";

    private final SiteGate gate;
    private final Json json;

    public ExecutionRepository(SiteGate gate, Json json) {
        this.gate = gate;
        this.json = json;
    }

    /** What a new execution row holds. */
    public record NewExecution(UUID id, UUID projectId, UUID jobId, String jobName, boolean exclusive, Map<String, Object> options,
                               String user, String memberId, int attempt, UUID retryOf, ExecutionStatus status, Instant fireTime) {}

    /** Records a new running execution; refused with 409 while an exclusive job already runs anywhere. */
    public Execution insertRunning(NewExecution execution) {
        return gate.write(h -> insert(h, execution).orElseThrow(() -> Refusal.conflict(
                "job '" + execution.jobName() + "' is already running and does not allow multiple executions")));
    }

    /** Inserts in the caller's transaction; empty when an exclusive job already has a queued or running execution. */
    public Optional<Execution> insert(Handle h, NewExecution e) {
        return h.createQuery("""
                        WITH e AS (
                        INSERT INTO tandem.executions (id, project_id, job_id, job_name, status, options, user_name, member_id, started_at,
                                                       exclusive, attempt, retry_of, fire_time, queued_at)
                        VALUES (:id, :project, :job, :name, :status, CAST(:options AS jsonb), :user, :member, now(), :exclusive, :attempt,
                                :retryOf, :fireTime, CASE WHEN :status = 'queued' THEN now() END)
                        ON CONFLICT (job_id) WHERE status IN ('queued', 'running') AND exclusive DO NOTHING
                        RETURNING *)
                        """ + "SELECT " + COLUMNS + " FROM e JOIN tandem.projects p ON p.id = e.project_id")
                .bind("id", e.id()).bind("project", e.projectId()).bind("job", e.jobId()).bind("name", e.jobName())
                .bind("status", e.status().sql()).bind("options", json.write(e.options())).bind("user", e.user())
                .bind("member", e.memberId()).bind("exclusive", e.exclusive()).bind("attempt", e.attempt())
                .bind("retryOf", e.retryOf()).bind("fireTime", e.fireTime() == null ? null : Timestamp.from(e.fireTime()))
                .map((rs, ctx) -> execution(rs))
                .findOne(); // empty: the exclusive job already has a queued or running execution
    }

    /** A fire time that could not start, recorded once with its reason. */
    public void insertMissed(Handle h, UUID id, UUID projectId, UUID jobId, String jobName, String memberId, Instant fireTime, String reason) {
        h.createUpdate("""
                        INSERT INTO tandem.executions (id, project_id, job_id, job_name, status, reason, user_name, member_id,
                                                       started_at, ended_at, fire_time)
                        VALUES (:id, :project, :job, :name, 'missed', :reason, 'scheduler', :member, :fireTime, now(), :fireTime)""")
                .bind("id", id).bind("project", projectId).bind("job", jobId).bind("name", jobName).bind("reason", reason)
                .bind("member", memberId).bind("fireTime", Timestamp.from(fireTime))
                .execute();
    }

    /** A queued execution picked up by its member becomes running. */
    public boolean markRunning(Handle h, UUID id, String memberId) {
        return h.createUpdate("UPDATE tandem.executions SET status = 'running', member_id = :member, started_at = now() WHERE id = :id AND status = 'queued'")
                .bind("id", id).bind("member", memberId).execute() == 1;
    }

    /** Records the final state; only a running execution changes (a second finish is a no-op). */
    public boolean finish(UUID id, ExecutionStatus status, String reason) {
        return gate.write(h -> h.createUpdate("""
                        UPDATE tandem.executions SET status = :status, reason = :reason, ended_at = now()
                        WHERE id = :id AND status IN ('queued', 'running')""")
                .bind("id", id).bind("status", status.sql()).bind("reason", reason)
                .execute() == 1);
    }

    /** A final state to record. */
    public record FinalState(UUID id, ExecutionStatus status, String reason) {}

    /** Records many final states in one transaction; returns the executions whose record changed (only running or queued ones do). */
    public java.util.Set<UUID> finishAll(List<FinalState> unordered) {
        List<FinalState> states = new java.util.ArrayList<>(unordered);
        states.sort(java.util.Comparator.comparing(FinalState::id)); // one lock order for every writer of many rows
        UUID[] ids = new UUID[states.size()];
        String[] statuses = new String[states.size()];
        String[] reasons = new String[states.size()];
        for (int i = 0; i < states.size(); i++) {
            ids[i] = states.get(i).id();
            statuses[i] = states.get(i).status().sql();
            reasons[i] = states.get(i).reason();
        }
        return gate.write(h -> new java.util.HashSet<>(h.createQuery("""
                        UPDATE tandem.executions e SET status = u.status, reason = u.reason, ended_at = now()
                        FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[]), CAST(:reasons AS text[])) AS u(id, status, reason)
                        WHERE e.id = u.id AND e.status IN ('queued', 'running')
                        RETURNING e.id""")
                .bindArray("ids", UUID.class, (Object[]) ids).bindArray("statuses", String.class, (Object[]) statuses)
                .bindArray("reasons", String.class, (Object[]) reasons)
                .mapTo(UUID.class).list()));
    }

    public boolean requestAbort(UUID id, String user) {
        return gate.write(h -> h.createUpdate("""
                        UPDATE tandem.executions SET abort_requested_by = :user WHERE id = :id AND status = 'running'""")
                .bind("id", id).bind("user", user).execute() == 1);
    }

    /** Running executions of this member that someone asked to abort, with who asked. */
    public Map<UUID, String> abortRequests(String memberId) {
        return gate.read(h -> h.createQuery("""
                        SELECT id, abort_requested_by FROM tandem.executions
                        WHERE member_id = :member AND status = 'running' AND abort_requested_by IS NOT NULL""")
                .bind("member", memberId)
                .reduceRows(new java.util.HashMap<UUID, String>(), (map, row) -> {
                    map.put(row.getColumn(1, UUID.class), row.getColumn(2, String.class));
                    return map;
                }));
    }

    /**
     * Marks every execution this member left running as incomplete. With {@code rerun} (the member
     * restarted: nothing it ran survived) each is also pending its re-run decision, which a takeover
     * cycle makes (re-running those whose job has retry).
     */
    public List<UUID> markIncomplete(String memberId, String reason, boolean rerun) {
        return gate.write(h -> h.createQuery("""
                        UPDATE tandem.executions SET status = 'incomplete', reason = :reason, ended_at = now(), rerun_pending = :rerun
                        WHERE member_id = :member AND status = 'running' RETURNING id""")
                .bind("member", memberId).bind("reason", reason).bind("rerun", rerun)
                .mapTo(UUID.class).list());
    }

    /** A run whose re-run could not start after all (its member was shutting down) is pending again. */
    public void flagRerun(UUID id) {
        gate.write(h -> h.createUpdate("UPDATE tandem.executions SET rerun_pending = true WHERE id = :id AND status = 'incomplete'")
                .bind("id", id).execute());
    }

    public Optional<Execution> find(UUID id) {
        return gate.read(h -> find(h, id));
    }

    public Optional<Execution> find(Handle h, UUID id) {
        return h.createQuery("SELECT " + COLUMNS + FROM + "WHERE e.id = :id").bind("id", id)
                .map((rs, ctx) -> execution(rs)).findOne();
    }

    public Execution require(String id) {
        UUID uuid;
        try {
            uuid = UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            throw Refusal.notFound("execution '" + id + "'");
        }
        return find(uuid).orElseThrow(() -> Refusal.notFound("execution '" + id + "'"));
    }

    /** A project's executions, newest first. */
    public List<Execution> list(UUID projectId, String status, int limit, int offset) {
        return page("e.project_id", projectId, status, limit, offset);
    }

    /** A job's executions, newest first (the index on job and start time serves it). */
    public List<Execution> listOfJob(UUID jobId, String status, int limit, int offset) {
        return page("e.job_id", jobId, status, limit, offset);
    }

    /** One page of the executions whose {@code column} (a column name of this class, never user input) is {@code id}. */
    private List<Execution> page(String column, UUID id, String status, int limit, int offset) {
        return gate.read(h -> h.createQuery("SELECT " + COLUMNS + FROM
                        + "WHERE " + column + " = :id AND (CAST(:status AS text) IS NULL OR e.status = :status) "
                        + "ORDER BY e.started_at DESC, e.id DESC LIMIT :limit OFFSET :offset")
                .bind("id", id).bind("status", status).bind("limit", limit).bind("offset", offset)
                .map((rs, ctx) -> execution(rs)).list());
    }

    private Execution execution(ResultSet rs) throws SQLException {
        Timestamp ended = rs.getTimestamp(11);
        return new Execution(rs.getObject(1, UUID.class), rs.getString(2), rs.getObject(3, UUID.class), rs.getString(4),
                ExecutionStatus.parse(rs.getString(5)), rs.getString(6), json.readMap(rs.getString(7)), rs.getString(8),
                rs.getString(9), rs.getTimestamp(10).toInstant(), ended == null ? null : ended.toInstant(),
                rs.getInt(12), rs.getObject(13, UUID.class), rs.getTimestamp(14) == null ? null : rs.getTimestamp(14).toInstant());
    }
}
