package dev.tandem.kernel.site;

import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;

/**
 * The only way the runtime writes replicated data. Every write transaction first takes the site
 * gate's shared advisory lock, then reads the site-state row: an update of that row (a fence)
 * takes the same lock exclusively (trigger of migrations V4 and V13), so it waits for in-flight writes and
 * every later write sees the new role. No write can commit after a fence, whatever any cache
 * says (DESIGN.md "Site state"). This replaces {@code SELECT ... FOR SHARE} on the row, which
 * serialised every write on one tuple (a MultiXact and WAL record per transaction). It needs READ
 * COMMITTED (a new snapshot per statement, so the read after the lock sees a fence that committed
 * while it waited): PostgreSQL's default, and set on every pooled connection by {@code Database}.
 */
public final class SiteGate implements SiteStateSource {
    /**
     * Holds the gate shared until the transaction ends, without reading the role: for writers
     * that write while the site is passive (the replicator's apply and seed import), so a
     * promotion waits for them. The lock id itself lives in tandem_local.site_gate_lock()
     * (migration V13) and nowhere else.
     */
    public static final String HOLD_SHARED = "SELECT tandem_local.hold_site_gate_shared()";
    private static final String ENTER_GATE = "SELECT * FROM tandem_local.enter_site_gate()";
    private static final String READ_STATE = """
            SELECT site_id, role, epoch, active_site_url, writes_until IS NOT NULL AND writes_until <= clock_timestamp(), fenced_reason,
                   writes_until IS NOT NULL, active_site_id
            FROM tandem_local.site_state""";

    private final Jdbi jdbi;

    public SiteGate(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /**
     * Runs {@code work} in one transaction that commits only if this site is active. Under a write
     * lease the deadline is checked again as the last statement before the commit, so a
     * transaction admitted just before the deadline cannot commit long after it.
     */
    public <T> T write(HandleCallback<T, RuntimeException> work) {
        return write(-1, work);
    }

    /**
     * {@link #write(HandleCallback)} that also refuses, with {@link SiteEpochChangedException},
     * unless the site is still at {@code epoch}: for writes prepared from what was read at that
     * epoch (rows a promotion rebuilds may look unchanged to a compare-and-set).
     */
    public <T> T writeAtEpoch(long epoch, HandleCallback<T, RuntimeException> work) {
        return write(epoch, work);
    }

    private <T> T write(long epoch, HandleCallback<T, RuntimeException> work) {
        return jdbi.inTransaction(handle -> {
            SiteState state = lockState(handle);
            if (!state.acceptsWrites()) {
                throw new SiteNotActiveException(state);
            }
            if (epoch >= 0 && state.epoch() != epoch) {
                throw new SiteEpochChangedException(epoch, state);
            }
            T result = work.withHandle(handle);
            if (state.leased()) {
                SiteState atCommit = handle.createQuery(READ_STATE).map(SiteGate::map).one();
                if (!atCommit.acceptsWrites()) {
                    throw new SiteNotActiveException(atCommit); // rolled back: the deadline passed during the transaction
                }
            }
            return result;
        });
    }

    /** Reads are served in every role. */
    public <T> T read(HandleCallback<T, RuntimeException> work) {
        return jdbi.withHandle(work);
    }

    @Override
    public SiteState current() {
        return jdbi.withHandle(h -> h.createQuery(READ_STATE)
                .map(SiteGate::map)
                .findOne()
                .orElseThrow(() -> new IllegalStateException("tandem_local.site_state has no row; the runtime initialises it at start")));
    }

    /**
     * Creates the site-state row the first time this database is used; an existing row is left
     * alone (the replicator owns it from then on). Returns the state in force.
     */
    public SiteState initialise(String siteId, SiteRole initialRole, String siteUrl) {
        jdbi.useHandle(h -> h.createUpdate("""
                        INSERT INTO tandem_local.site_state (site_id, role, epoch, active_site_url, active_site_id)
                        VALUES (:site, :role, 1, :url, :activeSite) ON CONFLICT (singleton) DO NOTHING""")
                .bind("site", siteId)
                .bind("role", initialRole.sql())
                .bind("url", initialRole == SiteRole.ACTIVE ? siteUrl : null)
                .bind("activeSite", initialRole == SiteRole.ACTIVE ? siteId : null)
                .execute());
        SiteState state = current();
        if (!state.siteId().equals(siteId)) {
            throw new IllegalStateException("this database belongs to site '" + state.siteId()
                    + "' but the configuration says site.id is '" + siteId + "'");
        }
        return state;
    }

    private static SiteState map(java.sql.ResultSet rs, org.jdbi.v3.core.statement.StatementContext ctx)
            throws java.sql.SQLException {
        return new SiteState(rs.getString(1), SiteRole.parse(rs.getString(2)), rs.getLong(3), rs.getString(4), rs.getBoolean(5),
                rs.getString(6), rs.getBoolean(7), rs.getString(8));
    }

    /**
     * Takes the gate's shared lock, then reads the state in a new snapshot, so it sees any fence
     * that committed while this transaction waited: one call of a function (migration V7) that
     * runs both as separate queries.
     */
    private static SiteState lockState(Handle handle) {
        Optional<SiteState> state = handle.createQuery(ENTER_GATE).map(SiteGate::map).findOne();
        return state.orElseThrow(() -> new IllegalStateException("tandem_local.site_state has no row"));
    }
}
