package dev.tandem.runtime.cluster;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * Members of this site and their heartbeats (site-local state). Ages are measured by the
 * database's clock, never a member's own.
 */
public final class MemberRepository {
    private final Jdbi jdbi;
    private final ClusterSettings settings;

    public MemberRepository(Jdbi jdbi, ClusterSettings settings) {
        this.jdbi = jdbi;
        this.settings = settings;
    }

    /** Registers (or re-registers after a restart or a takeover) this member with a fresh heartbeat. */
    public void register(MemberIdentity me, String url, List<String> tags) {
        jdbi.useHandle(h -> h.createUpdate("""
                        INSERT INTO tandem_local.members (id, name, url, tags, started_at, heartbeat_at)
                        VALUES (:id, :name, :url, :tags, now(), now())
                        ON CONFLICT (id) DO UPDATE SET name = :name, url = :url, tags = :tags, started_at = now(), heartbeat_at = now(),
                            stopped_at = NULL, taken_over_by = NULL, taken_over_at = NULL, draining = false""")
                .bind("id", me.id()).bind("name", me.name()).bind("url", url).bind("tags", tags.toArray(String[]::new))
                .execute());
    }

    /**
     * Empty when this member's row is missing; otherwise the member that took this one over while
     * it was silent, or "" when none did.
     */
    public Optional<String> heartbeat(String memberId, int running, double threadRatio, double systemLoad) {
        return jdbi.withHandle(h -> h.createQuery("""
                        UPDATE tandem_local.members SET heartbeat_at = now(), running = :running, thread_ratio = :ratio, system_load = :load
                        WHERE id = :id RETURNING coalesce(taken_over_by, '')""")
                .bind("id", memberId).bind("running", running).bind("ratio", (float) threadRatio).bind("load", (float) systemLoad)
                .mapTo(String.class).findOne());
    }

    /** After a takeover the returning member starts clean: its schedules and runs already moved on. */
    public void acknowledgeTakeover(String memberId) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE tandem_local.members SET taken_over_by = NULL, taken_over_at = NULL WHERE id = :id")
                .bind("id", memberId).execute());
    }

    public void markStopped(String memberId) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE tandem_local.members SET stopped_at = now() WHERE id = :id").bind("id", memberId).execute());
    }

    public boolean setDraining(String memberId, boolean draining) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE tandem_local.members SET draining = :d WHERE id = :id")
                .bind("id", memberId).bind("d", draining).execute() == 1);
    }

    public boolean setSchedulesPaused(String memberId, boolean paused) {
        return jdbi.withHandle(h -> h.createUpdate("UPDATE tandem_local.members SET schedules_paused = :p WHERE id = :id")
                .bind("id", memberId).bind("p", paused).execute() == 1);
    }

    public List<MemberView> list() {
        return query(null);
    }

    /** Whether a member is draining (one indexed row, no counts: asked on every run). */
    public boolean draining(String id) {
        return jdbi.withHandle(h -> h.createQuery("SELECT draining FROM tandem_local.members WHERE id = :id")
                .bind("id", id).mapTo(Boolean.class).findOne().orElse(false));
    }

    /** One member, by one indexed query (no scan of the others): called on every run and tick. */
    public Optional<MemberView> find(String id) {
        return query(id).stream().findFirst();
    }

    private List<MemberView> query(String id) {
        return jdbi.withHandle(h -> h.createQuery("""
                        SELECT m.id, m.name, m.url, m.tags, (extract(epoch FROM now() - m.heartbeat_at) * 1000)::bigint AS age,
                               m.started_at, m.thread_ratio, m.system_load, m.draining, m.schedules_paused, m.taken_over_by, m.stopped_at,
                               (SELECT count(*) FROM tandem_local.schedules s WHERE s.owner_member = m.id) AS schedules,
                               (SELECT count(*) FROM tandem.executions e WHERE e.member_id = m.id AND e.status IN ('queued', 'running')) AS active
                        FROM tandem_local.members m WHERE (CAST(:id AS text) IS NULL OR m.id = :id) ORDER BY m.name, m.id""")
                .bind("id", id)
                .map((rs, ctx) -> view(rs))
                .list());
    }

    /** Members that can take work: heartbeat fresh (not inactive), not draining, not stopped. */
    public List<MemberView> live() {
        return list().stream().filter(m -> m.state().equals("active")).toList();
    }

    private MemberView view(ResultSet rs) throws SQLException {
        long age = rs.getLong("age");
        boolean stopped = rs.getTimestamp("stopped_at") != null;
        boolean draining = rs.getBoolean("draining");
        String state;
        if (stopped) {
            state = "stopped";
        } else if (age > settings.deadAfter().toMillis()) {
            state = "dead";
        } else if (age > settings.inactiveAfter().toMillis()) {
            state = "inactive";
        } else if (draining) {
            state = "draining";
        } else {
            state = "active";
        }
        return new MemberView(rs.getString("id"), rs.getString("name"), rs.getString("url"), tags(rs.getArray("tags")), state, age,
                rs.getTimestamp("started_at").toInstant(), rs.getInt("schedules"), rs.getInt("active"), rs.getFloat("thread_ratio"),
                rs.getFloat("system_load"), draining, rs.getBoolean("schedules_paused"), rs.getString("taken_over_by"));
    }

    private static List<String> tags(Array array) throws SQLException {
        return array == null ? List.of() : Arrays.asList((String[]) array.getArray());
    }
}
