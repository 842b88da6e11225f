package dev.tandem.runtime.cluster;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/**
 * The takeover protocol's SQL, in one place: claiming a dead member (one claimer wins), marking
 * what it ran incomplete and pending its re-run, sending what was queued for it to a live member,
 * settling the runs of a former active site once per epoch, and taking pending re-runs one at a
 * time (rows another member decides are skipped). Each statement runs in the caller's gated
 * transaction.
 */
public final class TakeoverRepository {

    /**
     * Claims member {@code dead} for {@code taker} when no one has and it stopped or its last
     * heartbeat is older than {@code deadAfter} (the database's clock), and marks its running
     * executions incomplete, pending their re-run, with {@code reason}. Empty when another member
     * claimed it first, or it is not dead.
     */
    public Optional<List<UUID>> claimDeadMember(Handle h, String dead, String taker, Duration deadAfter, String reason) {
        int won = h.createUpdate("""
                        UPDATE tandem_local.members SET taken_over_by = :me, taken_over_at = now()
                        WHERE id = :dead AND taken_over_by IS NULL
                          AND (stopped_at IS NOT NULL OR heartbeat_at < now() - make_interval(secs => :deadAfter))""")
                .bind("me", taker).bind("dead", dead).bind("deadAfter", deadAfter.toMillis() / 1000.0)
                .execute();
        if (won == 0) {
            return Optional.empty();
        }
        return Optional.of(h.createQuery("""
                        UPDATE tandem.executions SET status = 'incomplete', ended_at = now(), reason = :reason, rerun_pending = true
                        WHERE member_id = :dead AND status = 'running' RETURNING id""")
                .bind("dead", dead).bind("reason", reason)
                .mapTo(UUID.class).list());
    }

    /** Sends the runs queued for {@code from} to {@code to}, and wakes {@code to}; returns how many moved. */
    public int requeue(Handle h, String from, String to) {
        int moved = h.createUpdate("UPDATE tandem_local.dispatch_queue SET target_member = :to WHERE target_member = :from")
                .bind("to", to).bind("from", from).execute();
        h.createUpdate("UPDATE tandem.executions SET member_id = :to WHERE member_id = :from AND status = 'queued'")
                .bind("to", to).bind("from", from).execute();
        if (moved > 0) {
            h.createUpdate("SELECT pg_notify('tandem_dispatch', :to)").bind("to", to).execute();
        }
        return moved;
    }

    /**
     * After this site became active at {@code epoch}: the first member to ask settles it (empty for
     * the others). Settling drops the schedule rows left from an earlier time this site was active
     * (they are rebuilt from the jobs) and marks what members of other sites were running or had
     * queued incomplete, pending their re-run, with {@code reason}; returns those executions.
     */
    public Optional<List<UUID>> settleFormerSite(Handle h, long epoch, String member, String reason) {
        boolean first = h.createUpdate("""
                        INSERT INTO tandem_local.site_takeovers (epoch, member_id, executions) VALUES (:epoch, :me, 0)
                        ON CONFLICT (epoch) DO NOTHING""")
                .bind("epoch", epoch).bind("me", member).execute() == 1;
        if (!first) {
            return Optional.empty();
        }
        h.execute("DELETE FROM tandem_local.schedules");
        List<UUID> ids = h.createQuery("""
                        UPDATE tandem.executions SET status = 'incomplete', ended_at = now(), reason = :reason, rerun_pending = true
                        WHERE status IN ('running', 'queued') AND member_id NOT IN (SELECT id FROM tandem_local.members)
                        RETURNING id""")
                .bind("reason", reason)
                .mapTo(UUID.class).list();
        h.createUpdate("UPDATE tandem_local.site_takeovers SET executions = :n WHERE epoch = :epoch")
                .bind("n", ids.size()).bind("epoch", epoch).execute();
        return Optional.of(ids);
    }

    /**
     * Takes the next run pending its re-run and clears its flag, locking it for this transaction:
     * among {@code only} when given, else any marked at least {@code settledFor} ago. Runs in
     * {@code skip} and runs another transaction holds are passed over. Empty when none is left.
     */
    public Optional<UUID> takePendingRerun(Handle h, List<UUID> only, Duration settledFor, UUID[] skip) {
        Optional<UUID> id = (only == null
                ? h.createQuery("""
                        SELECT id FROM tandem.executions
                        WHERE rerun_pending AND status = 'incomplete' AND id <> ALL(:skip)
                          AND ended_at < now() - make_interval(secs => :settled)
                        ORDER BY ended_at, id LIMIT 1 FOR UPDATE SKIP LOCKED""")
                        .bind("settled", settledFor.toMillis() / 1000.0)
                : h.createQuery("""
                        SELECT id FROM tandem.executions
                        WHERE rerun_pending AND status = 'incomplete' AND id <> ALL(:skip) AND id = ANY(:only)
                        ORDER BY ended_at, id LIMIT 1 FOR UPDATE SKIP LOCKED""")
                        .bindArray("only", UUID.class, only))
                .bindArray("skip", UUID.class, (Object[]) skip).mapTo(UUID.class).findOne();
        id.ifPresent(taken -> h.createUpdate("UPDATE tandem.executions SET rerun_pending = false WHERE id = :id").bind("id", taken).execute());
        return id;
    }
}
