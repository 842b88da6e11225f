package dev.tandem.replicator.heartbeat;

import dev.tandem.kernel.site.SiteGate;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * The active site's heartbeat: one row per site in {@code tandem.site_heartbeats}, committed
 * every interval through the site gate (so a fenced site cannot beat). It travels through the
 * change stream, so a passive site measures liveness on its own clock, and it keeps the slot
 * moving when nothing else changes (the WAL the slot holds stays bounded).
 */
public final class SiteHeartbeatWriter {
    private final SiteGate gate;
    private final String siteId;
    private final UUID rowId;
    private long beat;

    public SiteHeartbeatWriter(SiteGate gate, String siteId) {
        this.gate = gate;
        this.siteId = siteId;
        this.rowId = UUID.nameUUIDFromBytes(("tandem-site:" + siteId).getBytes(StandardCharsets.UTF_8));
    }

    /** Commits one beat; throws {@code SiteNotActiveException} when this site is not active. */
    public long beat() {
        long next = ++beat;
        gate.write(h -> write(h, next));
        return next;
    }

    /**
     * One last beat written directly, for a switchover (the site is fenced already); returns the
     * WAL position read inside its transaction, below its commit and above every earlier commit.
     */
    public long finalBeat(org.jdbi.v3.core.Jdbi jdbi) {
        long next = ++beat;
        return jdbi.inTransaction(h -> {
            long before = h.createQuery("SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint").mapTo(Long.class).one();
            write(h, next);
            return before;
        });
    }

    private int write(org.jdbi.v3.core.Handle h, long beat) {
        return h.createUpdate("""
                        INSERT INTO tandem.site_heartbeats (id, site_id, epoch, beat, written_at)
                        SELECT :id, :site, epoch, :beat, :at FROM tandem_local.site_state
                        ON CONFLICT (id) DO UPDATE SET epoch = EXCLUDED.epoch, beat = EXCLUDED.beat, written_at = EXCLUDED.written_at""")
                .bind("id", rowId)
                .bind("site", siteId)
                .bind("beat", beat)
                .bind("at", Instant.now())
                .execute();
    }
}
