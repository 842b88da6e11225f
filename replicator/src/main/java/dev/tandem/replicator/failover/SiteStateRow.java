package dev.tandem.replicator.failover;

import com.google.common.base.Ticker;
import java.time.Duration;
import org.jdbi.v3.core.Jdbi;

/**
 * The replicator's writes of the site-state row (tandem_local.site_state). Any update that takes
 * writes away (role, epoch, a shorter lease) waits for the runtime's write transactions in flight
 * (the gate's trigger), so none commits after it; extending the lease does not wait.
 */
public final class SiteStateRow implements SiteStateWriter {
    private final Jdbi jdbi;
    private final Ticker ticker;

    /** {@code ticker}: the clock the lease keeper's deadlines are read on. */
    public SiteStateRow(Jdbi jdbi, Ticker ticker) {
        this.jdbi = jdbi;
        this.ticker = ticker;
    }

    /**
     * Lets the active site at {@code epoch} accept writes until {@code deadlineNanos} (this
     * process's monotonic clock), converted to the database's clock at the moment the statement
     * runs, so no wait before it (a pool connection) lengthens the deadline. Never shortens it
     * (that would wait for every writer in flight). False if the site is no longer that.
     */
    @Override
    public boolean extend(long epoch, long deadlineNanos) {
        return jdbi.inTransaction(h -> {
            h.execute("SET LOCAL lock_timeout = '200ms'");
            double seconds = (deadlineNanos - ticker.read()) / 1e9;
            return h.createUpdate("""
                            UPDATE tandem_local.site_state
                            SET writes_until = greatest(writes_until, clock_timestamp() + make_interval(secs => :seconds))
                            WHERE role = 'active' AND epoch = :epoch""")
                    .bind("seconds", Math.max(0, seconds))
                    .bind("epoch", epoch)
                    .execute() == 1;
        });
    }

    /** Without a witness the role alone decides: no lease deadline. */
    @Override
    public void unbounded(long epoch) {
        jdbi.useHandle(h -> h.createUpdate("""
                        UPDATE tandem_local.site_state SET writes_until = NULL
                        WHERE role = 'active' AND epoch = :epoch AND writes_until IS NOT NULL""")
                .bind("epoch", epoch)
                .execute());
    }

    /**
     * Fences this site now; returns false if it already was. A fenced site that was the active one
     * no longer names itself as where writes go: which site is active is not known here until
     * {@link #pointTo} says so.
     */
    @Override
    public boolean fence(String reason) {
        return jdbi.withHandle(h -> h.createUpdate("""
                        UPDATE tandem_local.site_state
                        SET role = 'fenced', fenced_reason = :reason, updated_at = now(),
                            writes_until = LEAST(coalesce(writes_until, clock_timestamp()), clock_timestamp()),
                            active_site_url = CASE WHEN active_site_id = site_id THEN NULL ELSE active_site_url END,
                            active_site_id = CASE WHEN active_site_id = site_id THEN NULL ELSE active_site_id END
                        WHERE role <> 'fenced'""")
                .bind("reason", reason)
                .execute()) == 1;
    }

    /**
     * A fenced site learned which site is active ({@code url} null: only its id is known, from the
     * witness): its refusals name it. Writes nothing when the row says so already. Takes no writes
     * away, so it waits for none.
     */
    @Override
    public boolean pointTo(String activeSite, String url) {
        // Only the id known (the witness): a URL a peer gave for that same site is kept.
        return jdbi.withHandle(h -> h.createUpdate("""
                        UPDATE tandem_local.site_state SET active_site_id = :site, updated_at = now(),
                            active_site_url = CASE WHEN CAST(:url AS text) IS NULL AND active_site_id = :site THEN active_site_url
                                                   ELSE :url END
                        WHERE role = 'fenced' AND site_id <> :site
                          AND (active_site_id IS DISTINCT FROM :site OR (CAST(:url AS text) IS NOT NULL AND active_site_url IS DISTINCT FROM :url))""")
                .bind("site", activeSite).bind("url", url)
                .execute()) == 1;
    }

    /**
     * Makes this (passive or fenced) site the active one at {@code epoch}; its writes last
     * {@code lease} (null: no witness, no deadline; zero or less: none until the next renewal).
     * False if the row changed meanwhile (the epoch only grows: a site already at a higher epoch is
     * left alone).
     */
    public boolean activate(String siteId, long epoch, String url, Duration lease) {
        return jdbi.withHandle(h -> h.createUpdate("""
                        UPDATE tandem_local.site_state
                        SET role = 'active', epoch = :epoch, active_site_id = :site, active_site_url = :url, fenced_reason = NULL,
                            updated_at = now(),
                            writes_until = CASE WHEN :unbounded THEN NULL ELSE clock_timestamp() + make_interval(secs => :seconds) END
                        WHERE site_id = :site AND role <> 'active' AND epoch < :epoch""")
                .bind("site", siteId)
                .bind("epoch", epoch)
                .bind("url", url)
                .bind("unbounded", lease == null)
                .bind("seconds", lease == null ? 0.0 : Math.max(0, lease.toNanos() / 1e9))
                .execute()) == 1;
    }

    /** Undoes this site's own fence (an aborted switchover): active again at the same epoch, naming itself ({@code url}). */
    @Override
    public boolean unfence(long epoch, String url) {
        return jdbi.withHandle(h -> h.createUpdate("""
                        UPDATE tandem_local.site_state SET role = 'active', fenced_reason = NULL, updated_at = now(),
                            active_site_id = site_id, active_site_url = :url
                        WHERE role = 'fenced' AND epoch = :epoch""")
                .bind("epoch", epoch).bind("url", url)
                .execute()) == 1;
    }

    /**
     * After a switchover: this site follows {@code activeSite} at {@code epoch}, from the position
     * its new slot starts at (this site holds everything before it, so no copy is needed).
     */
    @Override
    public void follow(String activeSite, long epoch, String activeUrl, long from) {
        jdbi.useTransaction(h -> {
            h.createUpdate("""
                            UPDATE tandem_local.site_state
                            SET role = 'passive', epoch = :epoch, active_site_id = :active, active_site_url = :url, fenced_reason = NULL,
                                writes_until = NULL, updated_at = now()""")
                    .bind("epoch", epoch).bind("active", activeSite).bind("url", activeUrl)
                    .execute();
            h.createUpdate("""
                            INSERT INTO tandem_local.applied_position (source_site, epoch, commit_lsn, applied_at)
                            VALUES (:active, :epoch, :from, now())
                            ON CONFLICT (source_site) DO UPDATE SET epoch = EXCLUDED.epoch, commit_lsn = EXCLUDED.commit_lsn,
                                applied_at = now()""")
                    .bind("active", activeSite).bind("epoch", epoch).bind("from", from)
                    .execute();
        });
    }

    /**
     * After a failback's divergence report: this site becomes a passive site of {@code activeSite}
     * at {@code epoch}; what it applied before is forgotten (a fresh copy follows).
     */
    @Override
    public void followWithCopy(String activeSite, long epoch, String activeUrl) {
        jdbi.useTransaction(h -> {
            h.createUpdate("""
                            UPDATE tandem_local.site_state
                            SET role = 'passive', epoch = greatest(epoch, :epoch), active_site_id = :active, active_site_url = :url,
                                fenced_reason = NULL, writes_until = NULL, updated_at = now()""")
                    .bind("epoch", epoch).bind("active", activeSite).bind("url", activeUrl)
                    .execute();
            h.execute("DELETE FROM tandem_local.applied_position");
        });
    }
}
