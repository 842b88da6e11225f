package dev.tandem.runtime.cluster;

import dev.tandem.runtime.db.Json;
import dev.tandem.runtime.job.JobDefinition;
import dev.tandem.runtime.job.JobDocuments;
import dev.tandem.runtime.job.JobSchedules;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/** Scheduled jobs of this site: their owner and next fire time (site-local state). */
public final class ScheduleRepository implements JobSchedules {
    /**
     * A schedule whose next fire time has come.
     *
     * @param resumedBecause when the schedule was rebuilt at a hand-over, why (with {@code resumedAt}):
     *                       the cause of a fire time before it that is recorded missed
     */
    public record Due(UUID jobId, String cron, String timeZone, Instant nextFireAt, long version, String resumedBecause,
                      Instant resumedAt) {}

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ScheduleRepository.class);
    private final Jdbi jdbi;
    private final Json json;

    public ScheduleRepository(Jdbi jdbi, Json json) {
        this.jdbi = jdbi;
        this.json = json;
    }

    @Override
    public void saved(Handle h, UUID jobId, JobDefinition job, String member) {
        sync(h, jobId, job, member);
    }

    @Override
    public void deleted(Handle h, UUID jobId) {
        remove(h, jobId);
    }

    /**
     * After a job is created or modified: the member that did it owns the schedule (the seed's
     * rule); a job without an active schedule has no row. Runs in the import's transaction. A new
     * or changed schedule starts after now; an unchanged one keeps its next fire time, so an edit
     * never skips a due fire.
     */
    public static void sync(Handle h, UUID jobId, JobDefinition job, String member) {
        if (!job.scheduled()) {
            remove(h, jobId);
            return;
        }
        // Never at or before a fire time that already ran (the two sites' clocks may differ).
        Instant now = h.createQuery("SELECT greatest(now(), (SELECT max(fire_time) FROM tandem.executions WHERE job_id = :job))")
                .bind("job", jobId).mapTo(Timestamp.class).one().toInstant();
        Instant next = CronSchedules.nextAfter(job.cron(), job.timeZone(), now).orElse(null);
        if (next == null) {
            remove(h, jobId);
            return;
        }
        h.createUpdate("""
                        INSERT INTO tandem_local.schedules (job_id, owner_member, cron, time_zone, next_fire_at)
                        VALUES (:job, :owner, :cron, :tz, :next)
                        ON CONFLICT (job_id) DO UPDATE SET owner_member = :owner, cron = :cron, time_zone = :tz,
                            next_fire_at = CASE WHEN tandem_local.schedules.cron = :cron AND tandem_local.schedules.time_zone = :tz
                                                THEN tandem_local.schedules.next_fire_at ELSE :next END,
                            version = tandem_local.schedules.version + 1, updated_at = now()""")
                .bind("job", jobId).bind("owner", member).bind("cron", job.cron()).bind("tz", job.timeZone())
                .bind("next", Timestamp.from(next))
                .execute();
    }

    /**
     * The moment a job's schedule resumes after on a site that takes it over: the latest of its
     * last fire time that reached this site (run or recorded missed), the moment its schedule came
     * into force, and the moment its project's schedules were last switched on or off. Only
     * replicated data: the site that fired before may be gone.
     */
    public static Instant resumePoint(Handle h, UUID jobId) {
        return h.createQuery("""
                        SELECT greatest((SELECT max(e.fire_time) FROM tandem.executions e WHERE e.job_id = j.id AND e.fire_time IS NOT NULL),
                                        j.schedule_since, p.schedules_since)
                        FROM tandem.jobs j JOIN tandem.projects p ON p.id = j.project_id WHERE j.id = :job""")
                .bind("job", jobId).mapTo(Timestamp.class).one().toInstant();
    }

    /** True when the takeover of a promotion to {@code epoch} was settled (schedules rebuilt for it). */
    public boolean settledAt(long epoch) {
        return jdbi.withHandle(h -> h.createQuery("SELECT count(*) FROM tandem_local.site_takeovers WHERE epoch = :epoch")
                .bind("epoch", epoch).mapTo(Long.class).one()) > 0;
    }

    /**
     * Gives every scheduled job without a schedule row one (jobs that arrived by replication, all
     * of them after a promotion, or a restore), owned by the member that last modified it when that
     * member is live here, else by {@code member}. Each resumes from its {@link #resumePoint}: the
     * fire times since then fire late or, past the misfire threshold, are recorded missed with
     * {@code because} (a sentence such as "site 'b' took over at epoch 3") as their cause. Another
     * member rebuilding at the same time leaves the row it made alone. Returns how many rows were
     * created.
     */
    public int rebuildMissing(String member, String because) {
        List<UUID> missing = jdbi.withHandle(h -> h.createQuery("""
                        SELECT j.id FROM tandem.jobs j LEFT JOIN tandem_local.schedules s ON s.job_id = j.id
                        WHERE s.job_id IS NULL AND (j.definition -> 'schedule') IS NOT NULL""")
                .mapTo(UUID.class).list());
        int created = 0;
        for (UUID id : missing) {
            try {
                created += jdbi.inTransaction(h -> resume(h, id, member, because));
            } catch (RuntimeException e) {
                // One job whose schedule cannot be rebuilt (an unreadable document, a time zone this
                // site lacks) must not leave every job after it without a schedule: the others go
                // on, and this one is tried again when a member starts or at the next hand-over.
                LOG.error("The schedule of job {} could not be rebuilt ({}); it does not fire until it is: {}", id, because,
                        e.getMessage());
            }
        }
        return created;
    }

    private int resume(Handle h, UUID jobId, String member, String because) {
        Optional<String> document = h.createQuery("SELECT definition::text FROM tandem.jobs WHERE id = :id")
                .bind("id", jobId).mapTo(String.class).findOne();
        if (document.isEmpty()) {
            return 0; // deleted meanwhile
        }
        JobDefinition definition = JobDocuments.definition(json.readMap(document.get()));
        if (!definition.scheduled()) {
            return 0;
        }
        Instant after = resumePoint(h, jobId);
        Optional<Instant> next = CronSchedules.nextAfter(definition.cron(), definition.timeZone(), after);
        if (next.isEmpty()) {
            return 0;
        }
        String owner = h.createQuery("""
                        SELECT m.id FROM tandem.jobs j JOIN tandem_local.members m ON m.id = j.modified_by_member AND m.stopped_at IS NULL
                        WHERE j.id = :id""").bind("id", jobId).mapTo(String.class).findOne().orElse(member);
        return h.createUpdate("""
                        INSERT INTO tandem_local.schedules (job_id, owner_member, cron, time_zone, next_fire_at, resumed_because, resumed_at)
                        VALUES (:job, :owner, :cron, :tz, :next, :because, now())
                        ON CONFLICT (job_id) DO NOTHING""")
                .bind("job", jobId).bind("owner", owner).bind("cron", definition.cron()).bind("tz", definition.timeZone())
                .bind("next", Timestamp.from(next.get())).bind("because", because)
                .execute();
    }

    /** Old fire claims: a fire time a day old can never fire again (the misfire threshold is far shorter). */
    public int pruneClaims() {
        return jdbi.withHandle(h -> h.createUpdate("DELETE FROM tandem_local.fire_claims WHERE fire_time < now() - interval '1 day'").execute());
    }

    public static void remove(Handle h, UUID jobId) {
        h.createUpdate("DELETE FROM tandem_local.schedules WHERE job_id = :job").bind("job", jobId).execute();
    }

    public Instant databaseNow() {
        return jdbi.withHandle(h -> h.createQuery("SELECT now()").mapTo(Timestamp.class).one().toInstant());
    }

    public List<Due> due(String owner, Instant now, int limit) {
        return jdbi.withHandle(h -> h.createQuery("""
                        SELECT job_id, cron, time_zone, next_fire_at, version, resumed_because, resumed_at FROM tandem_local.schedules
                        WHERE owner_member = :owner AND next_fire_at <= :now ORDER BY next_fire_at LIMIT :limit""")
                .bind("owner", owner).bind("now", Timestamp.from(now)).bind("limit", limit)
                .map((rs, ctx) -> new Due(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                        rs.getTimestamp(4).toInstant(), rs.getLong(5), rs.getString(6),
                        rs.getTimestamp(7) == null ? null : rs.getTimestamp(7).toInstant()))
                .list());
    }

    /** Moves the next fire time on; false means someone moved or changed the schedule meanwhile. */
    public boolean advance(UUID jobId, String owner, long version, Instant next) {
        return jdbi.withHandle(h -> advance(h, jobId, owner, version, next));
    }

    /** {@link #advance(UUID, String, long, Instant)} in the caller's transaction. */
    public static boolean advance(Handle h, UUID jobId, String owner, long version, Instant next) {
        return h.createUpdate("""
                        UPDATE tandem_local.schedules SET next_fire_at = :next, version = version + 1, updated_at = now()
                        WHERE job_id = :job AND owner_member = :owner AND version = :version""")
                .bind("job", jobId).bind("owner", owner).bind("version", version).bind("next", Timestamp.from(next))
                .execute() == 1;
    }

    /**
     * Locks, without waiting, the schedules of {@code owner} among {@code versions} (job id →
     * version read before) that still have that version; returns their job ids. A row another
     * transaction holds, or that changed meanwhile, is left out.
     */
    public static java.util.Set<UUID> lockUnchanged(Handle h, String owner, java.util.Map<UUID, Long> versions) {
        java.util.Set<UUID> locked = new java.util.HashSet<>();
        h.createQuery("""
                        SELECT job_id, version FROM tandem_local.schedules WHERE job_id = ANY(:ids) AND owner_member = :owner
                        ORDER BY job_id FOR UPDATE SKIP LOCKED""")
                .bindArray("ids", UUID.class, versions.keySet()).bind("owner", owner)
                .map((rs, ctx) -> java.util.Map.entry(rs.getObject(1, UUID.class), rs.getLong(2)))
                .forEach(row -> {
                    if (row.getValue().equals(versions.get(row.getKey()))) {
                        locked.add(row.getKey());
                    }
                });
        return locked;
    }

    public void delete(UUID jobId) {
        jdbi.useHandle(h -> remove(h, jobId));
    }

    public List<UUID> ownedBy(Handle h, String member) {
        return h.createQuery("SELECT job_id FROM tandem_local.schedules WHERE owner_member = :m ORDER BY job_id")
                .bind("m", member).mapTo(UUID.class).list();
    }

    public List<UUID> ownedBy(String member) {
        return jdbi.withHandle(h -> ownedBy(h, member));
    }

    public int assign(Handle h, UUID jobId, String from, String to) {
        return h.createUpdate("""
                        UPDATE tandem_local.schedules SET owner_member = :to, version = version + 1, updated_at = now()
                        WHERE job_id = :job AND owner_member = :from""")
                .bind("job", jobId).bind("from", from).bind("to", to).execute();
    }
}
