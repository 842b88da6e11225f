package dev.tandem.runtime.project;

import dev.tandem.kernel.db.Ids;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.runtime.refusal.Refusal;
import dev.tandem.runtime.db.Json;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/** All SQL about projects. */
public final class ProjectRepository {
    private static final String COLUMNS = "id, name, description, config::text, created_at, updated_at";

    private final SiteGate gate;
    private final Json json;

    public ProjectRepository(SiteGate gate, Json json) {
        this.gate = gate;
        this.json = json;
    }

    public Project create(String name, String description, Map<String, Object> config) {
        return gate.write(h -> {
            if (find(h, name).isPresent()) {
                throw Refusal.conflict("project '" + name + "' already exists");
            }
            h.createUpdate("""
                            INSERT INTO tandem.projects (id, name, description, config, created_at, updated_at, schedules_since)
                            VALUES (:id, :name, :description, CAST(:config AS jsonb), now(), now(), now())""")
                    .bind("id", Ids.next())
                    .bind("name", name)
                    .bind("description", description)
                    .bind("config", json.write(config))
                    .execute();
            return find(h, name).orElseThrow();
        });
    }

    public List<Project> list() {
        return gate.read(h -> h.createQuery("SELECT " + COLUMNS + " FROM tandem.projects ORDER BY name")
                .map((rs, ctx) -> project(rs))
                .list());
    }

    public Optional<Project> find(String name) {
        return gate.read(h -> find(h, name));
    }

    public Project require(String name) {
        return find(name).orElseThrow(() -> Refusal.notFound("project '" + name + "'"));
    }

    public Optional<Project> find(Handle h, String name) {
        return h.createQuery("SELECT " + COLUMNS + " FROM tandem.projects WHERE name = :name")
                .bind("name", name)
                .map((rs, ctx) -> project(rs))
                .findOne();
    }

    public Project updateConfig(String name, Map<String, Object> config) {
        // schedules_since moves when the project's schedules are switched on or off: a schedule that
        // resumes on another site starts after it, so fire times while they were off are neither run nor missed.
        return gate.write(h -> {
            int rows = h.createUpdate("""
                            UPDATE tandem.projects SET config = CAST(:config AS jsonb), updated_at = now(),
                                schedules_since = CASE
                                    WHEN (config @> '{"scheduleEnabled": false}' OR config @> '{"executionEnabled": false}')
                                      <> (CAST(:config AS jsonb) @> '{"scheduleEnabled": false}'
                                          OR CAST(:config AS jsonb) @> '{"executionEnabled": false}')
                                    THEN now() ELSE schedules_since END
                            WHERE name = :name""")
                    .bind("config", json.write(config))
                    .bind("name", name)
                    .execute();
            if (rows == 0) {
                throw Refusal.notFound("project '" + name + "'");
            }
            return find(h, name).orElseThrow();
        });
    }

    /** Deletes the project with its jobs and executions; refused while any of them runs. Returns the execution ids removed. */
    public List<UUID> delete(String name) {
        return gate.write(h -> {
            Project project = find(h, name).orElseThrow(() -> Refusal.notFound("project '" + name + "'"));
            h.createQuery("SELECT id FROM tandem.projects WHERE id = :id FOR UPDATE").bind("id", project.id()).mapTo(UUID.class).one();
            long running = h.createQuery("SELECT count(*) FROM tandem.executions WHERE project_id = :id AND status IN ('queued', 'running')")
                    .bind("id", project.id()).mapTo(Long.class).one();
            if (running > 0) {
                throw Refusal.conflict("project '" + name + "' has " + running + " running execution(s); abort them or wait before deleting it");
            }
            List<UUID> executions = h.createQuery("DELETE FROM tandem.executions WHERE project_id = :id RETURNING id")
                    .bind("id", project.id()).mapTo(UUID.class).list();
            h.createUpdate("DELETE FROM tandem.jobs WHERE project_id = :id").bind("id", project.id()).execute();
            h.createUpdate("DELETE FROM tandem.projects WHERE id = :id").bind("id", project.id()).execute();
            return executions;
        });
    }

    private Project project(ResultSet rs) throws SQLException {
        return new Project(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), json.readMap(rs.getString(4)),
                rs.getTimestamp(5).toInstant(), rs.getTimestamp(6).toInstant());
    }
}
