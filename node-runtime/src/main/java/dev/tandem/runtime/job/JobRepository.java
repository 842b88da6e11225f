package dev.tandem.runtime.job;

import dev.tandem.kernel.db.Ids;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.db.Json;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/** All SQL about jobs. An import is one transaction: all of its jobs are written, or none. */
public final class JobRepository {
    private static final String COLUMNS =
            "j.id, j.project_id, p.name, j.uuid, j.name, j.group_path, j.definition::text, j.created_at, j.updated_at, j.saved_by";
    private static final String FROM = " FROM tandem.jobs j JOIN tandem.projects p ON p.id = j.project_id ";

    private final SiteGate gate;
    private final Json json;
    private final JobSchedules schedules;

    public JobRepository(SiteGate gate, Json json, JobSchedules schedules) {
        this.gate = gate;
        this.json = json;
        this.schedules = schedules;
    }

    /** Creates each job, or updates the one with its uuid, else the one with its group and name. */
    public List<ImportedJob> importJobs(UUID projectId, String projectName, List<ValidatedJob> jobs, String memberId, String user) {
        return gate.write(h -> {
            List<ImportedJob> result = new ArrayList<>();
            for (ValidatedJob job : jobs) {
                result.add(importOne(h, projectId, projectName, job, memberId, user));
            }
            refuseCycles(h, result);
            return result;
        });
    }

    private ImportedJob importOne(Handle h, UUID projectId, String projectName, ValidatedJob job, String memberId, String user) {
        JobDefinition def = job.definition();
        String where = "job[" + job.index() + "] '" + def.name() + "'";
        Optional<StoredJob> byName = h.createQuery("SELECT " + COLUMNS + FROM + "WHERE j.project_id = :p AND j.group_path = :g AND j.name = :n")
                .bind("p", projectId).bind("g", def.group()).bind("n", def.name())
                .map((rs, ctx) -> job(rs)).findOne();
        Optional<StoredJob> existing;
        if (def.uuid() != null) {
            existing = findByUuid(h, def.uuid());
            if (existing.isPresent() && !existing.get().projectId().equals(projectId)) {
                throw JobImportException.of(Refusal.Kind.CONFLICT, "uuid '" + def.uuid() + "' belongs to job '" + existing.get().name()
                        + "' of project '" + existing.get().project() + "'", where + " uuid");
            }
            if (byName.isPresent() && (existing.isEmpty() || !byName.get().id().equals(existing.get().id()))) {
                throw JobImportException.of(Refusal.Kind.CONFLICT, "project '" + projectName + "' already has a job '" + def.fullName()
                        + "' with uuid '" + byName.get().uuid() + "'", where + " uuid");
            }
        } else {
            existing = byName;
        }
        UUID id = existing.map(StoredJob::id).orElseGet(Ids::next);
        String uuid = existing.map(StoredJob::uuid).orElse(def.uuid() != null ? def.uuid() : id.toString());
        Map<String, Object> document = withUuid(existing.isPresent()
                ? JobDocuments.withStoredSecureDefaults(job.document(), existing.get().document()) : job.document(), uuid);
        if (existing.isPresent()) {
            h.createUpdate("""
                            UPDATE tandem.jobs SET name = :name, group_path = :group, definition = CAST(:doc AS json),
                                   updated_at = now(), modified_by_member = :member, saved_by = :user,
                                   schedule_since = CASE WHEN :sameSchedule THEN schedule_since ELSE now() END
                            WHERE id = :id""")
                    .bind("id", id).bind("name", def.name()).bind("group", def.group())
                    .bind("doc", json.write(document)).bind("member", memberId).bind("user", user)
                    .bind("sameSchedule", existing.get().definition().firesLike(def))
                    .execute();
        } else {
            h.createUpdate("""
                            INSERT INTO tandem.jobs (id, project_id, uuid, name, group_path, definition, created_at, updated_at, modified_by_member,
                                                     schedule_since, saved_by)
                            VALUES (:id, :project, :uuid, :name, :group, CAST(:doc AS json), now(), now(), :member, now(), :user)""")
                    .bind("id", id).bind("project", projectId).bind("uuid", uuid).bind("name", def.name())
                    .bind("group", def.group()).bind("doc", json.write(document)).bind("member", memberId).bind("user", user)
                    .execute();
        }
        schedules.saved(h, id, def, memberId);
        return new ImportedJob(job.index(), id, uuid, def.name(), def.group(), existing.isPresent() ? "updated" : "created", job.warnings());
    }

    /**
     * Refuses an import after which a job would reach itself through job references (the whole
     * import rolls back). References whose target is computed from options are checked at run time.
     */
    private void refuseCycles(Handle h, List<ImportedJob> imported) {
        // Only the jobs reachable from the imported ones are read, reference by reference: a cycle
        // through an imported job lies among them, and the cost does not grow with other projects' jobs.
        java.util.Map<UUID, List<StoredJob>> edges = new java.util.HashMap<>();
        java.util.function.Function<UUID, List<StoredJob>> targets = id -> {
            List<StoredJob> known = edges.get(id);
            if (known == null) {
                known = referencedBy(h, id);
                edges.put(id, known);
            }
            return known;
        };
        for (ImportedJob start : imported) {
            List<String> path = cycleFrom(start.id(), start.id(), targets, new ArrayList<>(List.of(start.name())), new java.util.HashSet<>());
            if (path != null) {
                throw JobImportException.of(Refusal.Kind.INVALID, "job references form a cycle: " + String.join(" -> ", path),
                        "job[" + start.index() + "] '" + start.name() + "' sequence.commands");
            }
        }
    }

    /** The stored jobs the job's steps and error handlers reference by a literal uuid or name. */
    private List<StoredJob> referencedBy(Handle h, UUID id) {
        Optional<StoredJob> job = find(h, id.toString());
        List<StoredJob> out = new ArrayList<>();
        if (job.isEmpty()) {
            return out;
        }
        for (Step step : job.get().definition().steps()) {
            List<Step> both = new ArrayList<>(List.of(step));
            step.errorHandler().ifPresent(both::add);
            for (Step s : both) {
                if (s instanceof Step.JobRef ref) {
                    (ref.uuid() != null ? findByUuid(h, ref.uuid())
                            : h.createQuery("SELECT " + COLUMNS + FROM + "WHERE p.name = :p AND j.group_path = :g AND j.name = :n")
                                    .bind("p", ref.project() == null ? job.get().project() : ref.project())
                                    .bind("g", ref.group()).bind("n", ref.name())
                                    .map((rs, ctx) -> job(rs)).findOne())
                            .ifPresent(out::add);
                }
            }
        }
        return out;
    }

    private static List<String> cycleFrom(UUID start, UUID at, java.util.function.Function<UUID, List<StoredJob>> targets,
                                          List<String> path, java.util.Set<UUID> seen) {
        for (StoredJob next : targets.apply(at)) {
            List<String> extended = new ArrayList<>(path);
            extended.add(next.name());
            if (next.id().equals(start)) {
                return extended;
            }
            if (seen.add(next.id())) {
                List<String> found = cycleFrom(start, next.id(), targets, extended, seen);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    /** The document with its uuid: where the user wrote it, else right after the name and group. */
    private static Map<String, Object> withUuid(Map<String, Object> given, String uuid) {
        if (given.containsKey("uuid")) {
            Map<String, Object> copy = new LinkedHashMap<>(given);
            copy.put("uuid", uuid);
            return copy;
        }
        String after = given.containsKey("group") ? "group" : "name";
        Map<String, Object> document = new LinkedHashMap<>();
        given.forEach((k, v) -> {
            document.put(k, v);
            if (k.equals(after)) {
                document.put("uuid", uuid);
            }
        });
        document.putIfAbsent("uuid", uuid);
        return document;
    }

    public List<StoredJob> list(UUID projectId) {
        return gate.read(h -> h.createQuery("SELECT " + COLUMNS + FROM + "WHERE j.project_id = :p ORDER BY j.group_path, j.name")
                .bind("p", projectId)
                .map((rs, ctx) -> job(rs))
                .list());
    }

    /** By Tandem id, or by the Rundeck uuid. */
    public Optional<StoredJob> find(String idOrUuid) {
        return gate.read(h -> find(h, idOrUuid));
    }

    /** Jobs by Tandem id in one query; an id without a job is left out. */
    public Map<UUID, StoredJob> findAll(java.util.Collection<UUID> ids) {
        Map<UUID, StoredJob> found = new LinkedHashMap<>();
        if (ids.isEmpty()) {
            return found;
        }
        gate.read(h -> h.createQuery("SELECT " + COLUMNS + FROM + "WHERE j.id = ANY(:ids)")
                .bindArray("ids", UUID.class, ids)
                .map((rs, ctx) -> job(rs)).list())
                .forEach(job -> found.put(job.id(), job));
        return found;
    }

    public StoredJob require(String idOrUuid) {
        return find(idOrUuid).orElseThrow(() -> Refusal.notFound("job '" + idOrUuid + "'"));
    }

    public Optional<StoredJob> find(Handle h, String idOrUuid) {
        UUID id = parseUuid(idOrUuid);
        if (id != null) {
            Optional<StoredJob> byId = h.createQuery("SELECT " + COLUMNS + FROM + "WHERE j.id = :id")
                    .bind("id", id).map((rs, ctx) -> job(rs)).findOne();
            if (byId.isPresent()) {
                return byId;
            }
        }
        return findByUuid(h, idOrUuid);
    }

    public Optional<StoredJob> findByName(String project, String group, String name) {
        return gate.read(h -> h.createQuery("SELECT " + COLUMNS + FROM + "WHERE p.name = :p AND j.group_path = :g AND j.name = :n")
                .bind("p", project).bind("g", group == null ? "" : group).bind("n", name)
                .map((rs, ctx) -> job(rs)).findOne());
    }

    public boolean delete(UUID id) {
        return gate.write(h -> {
            schedules.deleted(h, id);
            return h.createUpdate("DELETE FROM tandem.jobs WHERE id = :id").bind("id", id).execute() == 1;
        });
    }

    private Optional<StoredJob> findByUuid(Handle h, String uuid) {
        return h.createQuery("SELECT " + COLUMNS + FROM + "WHERE j.uuid = :uuid")
                .bind("uuid", uuid).map((rs, ctx) -> job(rs)).findOne();
    }

    private StoredJob job(ResultSet rs) throws SQLException {
        return new StoredJob(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getString(6), json.readMap(rs.getString(7)), rs.getTimestamp(8).toInstant(), rs.getTimestamp(9).toInstant(),
                rs.getString(10));
    }

    private static UUID parseUuid(String text) {
        try {
            return UUID.fromString(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
