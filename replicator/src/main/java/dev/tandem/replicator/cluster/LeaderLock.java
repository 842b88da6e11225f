package dev.tandem.replicator.cluster;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replicator per site leads: the one whose database session holds a session-level advisory
 * lock. The lock goes with the session, so a killed leader releases it as soon as its connection
 * drops, and a leader that can no longer reach its database stops leading on its next check.
 */
public final class LeaderLock implements AutoCloseable {
    /** Distinct from the runtime's site-gate lock. */
    static final long LEADER_LOCK = 7310586648218157414L;
    private static final Logger LOG = LoggerFactory.getLogger(LeaderLock.class);

    private final Supplier<Connection> connections;
    private Connection session;

    public LeaderLock(Supplier<Connection> connections) {
        this.connections = connections;
    }

    /**
     * Tries to hold the lock (or checks it is still held). Returns null when this instance leads,
     * else the reason it does not.
     */
    public synchronized String hold() {
        try {
            if (session != null) {
                try (PreparedStatement ps = session.prepareStatement(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
                                + "AND objid = (? & 4294967295)::oid AND classid = (? >> 32)::oid")) {
                    ps.setLong(1, LEADER_LOCK);
                    ps.setLong(2, LEADER_LOCK);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getLong(1) > 0) {
                            return null;
                        }
                    }
                }
                release();
                return "the leader lock was lost";
            }
            session = connections.get();
            session.setAutoCommit(true);
            try (var s = session.createStatement()) {
                // The server notices a vanished leader (host crash, partition) within seconds, not
                // after the operating system's two-hour keepalive, and so releases the lock.
                s.execute("SET tcp_keepalives_idle = 5");
                s.execute("SET tcp_keepalives_interval = 2");
                s.execute("SET tcp_keepalives_count = 3");
                s.execute("SET tcp_user_timeout = 10000");
            }
            try (PreparedStatement ps = session.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                ps.setLong(1, LEADER_LOCK);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        LOG.info("This replicator now leads its site (holds the leader lock)");
                        return null;
                    }
                }
            }
            release();
            return "another replicator of this site holds the leader lock";
        } catch (SQLException | RuntimeException e) {
            release();
            return "the site database is unreachable (" + e.getMessage() + ")";
        }
    }

    private void release() {
        if (session != null) {
            try {
                session.close();
            } catch (SQLException ignored) {
                // the session is gone either way, and the lock with it
            }
            session = null;
        }
    }

    @Override
    public synchronized void close() {
        release();
    }
}
