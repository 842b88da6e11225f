package dev.tandem.replicator.apply;

import dev.tandem.kernel.site.SiteGate;
import dev.tandem.replicator.stream.Frame;
import dev.tandem.replicator.stream.RowChange;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Applies frames to this (passive) site: one local transaction per source transaction, in the
 * order received, inserting, upserting or deleting by primary key, with the source commit position written
 * in the same transaction. A transaction at or below the stored position is rolled back (it was
 * applied before). Only the site and epoch that this site's state names as active are accepted.
 * The session runs with {@code session_replication_role = replica}, like PostgreSQL's own apply.
 *
 * <p>A transaction that continues what this applier committed last (same source, same epoch)
 * starts without reading anything: its end checks, under the site gate's lock and in one round
 * trip, that the site still follows that source at that epoch and that the stored position is
 * still the one it was applied after (a compare-and-set), and only then commits. So a one-row
 * transaction takes three round trips (its rows, the position, the commit). Anything else (the
 * first transaction, one after an error, another source or epoch) reads the site state first.
 */
public final class Applier implements AutoCloseable {
    private static final String UNIQUE_VIOLATION = "23505";
    /**
     * Runs of new rows at least this long are sent with COPY; shorter ones (a one-row transaction)
     * with one prepared statement, which takes one round trip where COPY takes two and a parse.
     */
    public static final int COPY_MIN_ROWS = 16;

    private final String localSite;
    private final Supplier<Connection> connections;
    private final ApplyStats stats;
    private final Map<String, String> statements = new HashMap<>();
    private Connection connection;
    private TableCatalog catalog;
    private long openXid = -1;
    private int expectedSeq;
    private long appliedBefore;
    /**
     * What this applier's last commit established, under the gate's lock: the site was passive and
     * followed this source at this epoch, with this position stored. Null when not known: at the
     * start, once a stream (re)starts, after an error, and while a commit is under way.
     */
    private Followed followed;
    private boolean heartbeatInTx;
    private Skipped skipping;
    private long lastFrameNanos;
    /**
     * A source transaction whose inserts found their row already here: it is applied again (the
     * stream resends it from its start) with upserts instead of inserts.
     */
    private long upsertXid = -1;

    public Applier(String localSite, Supplier<Connection> connections, ApplyStats stats) {
        this.localSite = localSite;
        this.connections = connections;
        this.stats = stats;
    }

    /** The last applied commit position from {@code source}, or -1 if nothing was ever applied. */
    public long appliedPosition(String source) throws SQLException {
        followed = null; // a stream starts from what is stored, which a seed may have just written
        try (PreparedStatement ps = connection().prepareStatement(
                "SELECT commit_lsn FROM tandem_local.applied_position WHERE source_site = ?")) {
            ps.setString(1, source);
            try (ResultSet rs = ps.executeQuery()) {
                long position = rs.next() ? rs.getLong(1) : -1;
                connection.commit();
                return position;
            }
        }
    }

    /**
     * Applies one frame. Returns the commit position when the frame ended a transaction that was
     * applied now, else -1.
     */
    public long apply(Frame frame) throws SQLException {
        Connection c = connection();
        lastFrameNanos = System.nanoTime();
        if (frame.seq() == 0) {
            if (openXid >= 0) {
                c.rollback(); // the source resent a transaction from its start (capture restart)
                openXid = -1;
            }
            skipping = null;
            if (!begin(c, frame)) {
                return -1;
            }
        } else if (skipping != null && skipping.xid == frame.xid()) {
            return finishSkipped(frame);
        } else if (frame.xid() != openXid || frame.seq() != expectedSeq) {
            abandon();
            throw new OutOfOrderFrameException("frame " + frame.seq() + " of source transaction " + frame.xid()
                    + " arrived while expecting frame " + expectedSeq + " of " + (openXid < 0 ? "none" : openXid));
        }
        expectedSeq++;
        try {
            applyRows(c, frame);
        } catch (SQLException | DivergenceException e) {
            if (frame.prevLsn() >= appliedBefore) {
                positionMustHold(frame, e);
                retryWithUpserts(frame.xid(), e);
                throw e;
            }
            // Possibly a transaction applied before, replayed over newer rows: decide at its end.
            c.rollback();
            openXid = -1;
            skipping = new Skipped(frame.xid(), e);
            return finishSkipped(frame);
        }
        if (!frame.last()) {
            return -1;
        }
        openXid = -1;
        long commit = frame.commitLsn();
        if (commit <= appliedBefore) {
            c.rollback();
            stats.duplicateSkipped();
            return -1;
        }
        followed = null; // known again only once the commit succeeded
        if (!recordPosition(c, frame, commit)) {
            return -1;
        }
        c.commit();
        followed = new Followed(frame.site(), frame.epoch(), commit);
        if (frame.xid() == upsertXid) {
            upsertXid = -1;
        }
        stats.applied(frame, heartbeatInTx);
        return commit;
    }

    /**
     * A transaction fails for good (it was not a replay of one applied before): if its inserts met
     * existing rows, its next delivery is applied with upserts. Set only here, so the replays that
     * a restart delivers first (and that are dropped) cannot take the mark away from it.
     */
    private void retryWithUpserts(long xid, Exception failure) {
        if (failure instanceof InsertConflictException) {
            upsertXid = xid;
        }
    }

    /** Inserted rows met rows with the same key on this site. */
    static final class InsertConflictException extends SQLException {
        InsertConflictException(String message, SQLException cause) {
            super(message, cause.getSQLState(), cause);
        }
    }

    /**
     * Before a transaction's failure is taken as its own (it is then retried with upserts, or
     * stops apply): the position stored here must still be the one it was applied after. Otherwise
     * another replicator applied meanwhile (whose uncommitted rows this one met), and the failure
     * says nothing about the transaction: apply resumes from the stored position.
     */
    private void positionMustHold(Frame frame, Exception failure) throws SQLException {
        long stored;
        try {
            Connection c = connection();
            stored = readSite(c, frame.site()).position();
            c.rollback();
        } catch (SQLException | RuntimeException readFailure) {
            failure.addSuppressed(readFailure);
            return; // the failure itself is reported
        }
        if (stored != appliedBefore) {
            throw positionMoved(frame, stored, failure);
        }
    }

    private PositionMovedException positionMoved(Frame frame, long stored, Exception cause) {
        PositionMovedException moved = new PositionMovedException("transaction " + frame.xid() + " from site '" + frame.site()
                + "' was applied after position " + appliedBefore + ", but the position stored here is now " + stored
                + " (another replicator applied, or the site was seeded again): it was rolled back, and apply resumes from the stored position");
        if (cause != null) {
            moved.initCause(cause);
        }
        return moved;
    }

    /** A transaction set aside: a replay of one applied before (commit at or below the position), or an error. */
    private record Skipped(long xid, Exception failure) {}

    private long finishSkipped(Frame frame) throws SQLException {
        if (!frame.last()) {
            return -1;
        }
        Skipped skipped = skipping;
        skipping = null;
        if (frame.commitLsn() <= appliedBefore) {
            stats.duplicateSkipped();
            return -1;
        }
        if (skipped.failure() == null) {
            return -1; // an older epoch's transaction: history this site has already moved past
        }
        positionMustHold(frame, skipped.failure());
        retryWithUpserts(skipped.xid(), skipped.failure());
        if (skipped.failure() instanceof SQLException sql) {
            throw sql;
        }
        throw (RuntimeException) skipped.failure();
    }

    /**
     * Starts a local transaction for a source transaction. Returns false when the transaction is
     * set aside (from an older epoch of the followed site, e.g. history still in a Kafka topic).
     */
    private boolean begin(Connection c, Frame frame) throws SQLException {
        if (followed != null && followed.site().equals(frame.site()) && followed.epoch() == frame.epoch()
                && frame.prevLsn() == followed.position()) {
            // The transaction right after this applier's last commit: its end checks that nothing
            // changed meanwhile. (Replays, gaps and duplicates are decided on what is stored, below.)
            return open(frame, followed.position());
        }
        SiteView site = readSite(c, frame.site());
        if (!"passive".equals(site.role())) {
            c.rollback();
            throw new ApplyRefusedException("site '" + localSite + "' is " + site.role() + " (epoch " + site.epoch()
                    + "); only a passive site applies changes, so transaction " + frame.xid() + " from '" + frame.site() + "' was refused");
        }
        if (frame.site().equals(site.activeSite()) && frame.epoch() < site.epoch()) {
            c.rollback();
            skipping = new Skipped(frame.xid(), null);
            return finishSkipped(frame) >= 0;
        }
        if (!frame.site().equals(site.activeSite()) || frame.epoch() != site.epoch()) {
            c.rollback();
            throw new ApplyRefusedException("site '" + localSite + "' follows site '" + site.activeSite() + "' at epoch " + site.epoch()
                    + " but transaction " + frame.xid() + " comes from site '" + frame.site() + "' at epoch " + frame.epoch() + "; refused");
        }
        return open(frame, site.position());
    }

    private boolean open(Frame frame, long positionBefore) throws SQLException {
        appliedBefore = positionBefore;
        if (frame.prevLsn() > appliedBefore && appliedBefore >= 0) {
            connection.rollback();
            followed = null;
            throw new GapException(frame, appliedBefore);
        }
        openXid = frame.xid();
        expectedSeq = 0;
        heartbeatInTx = false;
        return true;
    }

    /** The site state, and the position stored for {@code source} (-1 if none). */
    private record SiteView(String role, long epoch, String activeSite, long position) {}

    /** See {@link #followed}. */
    private record Followed(String site, long epoch, long position) {}

    private SiteView readSite(Connection c, String source) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT s.role, s.epoch, s.active_site_id,
                       (SELECT p.commit_lsn FROM tandem_local.applied_position p WHERE p.source_site = ?)
                FROM tandem_local.site_state s""")) {
            ps.setString(1, source);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new ApplyRefusedException("site '" + localSite + "' has no site-state row; start its node runtime or seed it first");
                }
                long position = rs.getLong(4);
                boolean none = rs.wasNull();
                return new SiteView(rs.getString(1), rs.getLong(2), rs.getString(3), none ? -1 : position);
            }
        }
    }

    /**
     * Takes the site gate's shared lock (held until the commit, so a promotion or a fence waits at
     * most for one commit), then stores the transaction's commit position, in one round trip: the
     * two statements go together, and under READ COMMITTED the second one's snapshot is taken once
     * the lock is granted, so it sees any change of the site state committed before.
     *
     * <p>The position is stored only if the site is still passive and follows this source at this
     * epoch, and if the stored position is still the one the transaction was applied after (no row
     * when there was none). Otherwise the transaction is rolled back: it is dropped (returns false)
     * when it turns out applied before or from an older epoch, and anything else is thrown.
     */
    private boolean recordPosition(Connection c, Frame frame, long commit) throws SQLException {
        boolean first = appliedBefore < 0;
        try (PreparedStatement ps = c.prepareStatement(first ? INSERT_POSITION : UPDATE_POSITION)) {
            int i = 1;
            if (first) {
                ps.setString(i++, frame.site());
            }
            ps.setLong(i++, frame.epoch());
            ps.setLong(i++, commit);
            ps.setLong(i++, frame.commitMillis());
            if (!first) {
                ps.setString(i++, frame.site());
                ps.setLong(i++, appliedBefore);
            }
            ps.setString(i++, frame.site());
            ps.setLong(i, frame.epoch());
            ps.execute(); // the lock's row first
            if (!ps.getMoreResults() && ps.getUpdateCount() == 1) {
                return true;
            }
        }
        SiteView site = readSite(c, frame.site()); // still under the lock: what changed
        c.rollback();
        boolean following = "passive".equals(site.role()) && frame.site().equals(site.activeSite());
        if (following && frame.epoch() < site.epoch()) {
            return false; // an older epoch's transaction: history this site has already moved past
        }
        if (!following || frame.epoch() != site.epoch()) {
            throw new ApplyRefusedException("site '" + localSite + "' changed while transaction " + frame.xid() + " was applied (now "
                    + site.role() + ", following '" + site.activeSite() + "' at epoch " + site.epoch() + "); it was rolled back");
        }
        if (commit <= site.position()) {
            stats.duplicateSkipped(); // applied meanwhile by another replicator
            return false;
        }
        throw positionMoved(frame, site.position(), null);
    }

    /** The position stored here moved under this applier; resuming from the stored position fixes it. */
    public static final class PositionMovedException extends SQLException {
        PositionMovedException(String message) {
            super(message);
        }
    }

    /** The shared site-gate lock: a promotion waits for the transaction being applied. */
    private static final String LOCK_GATE = SiteGate.HOLD_SHARED + ";\n";
    private static final String FOLLOWING = "SELECT 1 FROM tandem_local.site_state s WHERE s.role = 'passive' AND s.active_site_id = ? AND s.epoch = ?";
    /** The first position from a source: only if there is none yet. */
    private static final String INSERT_POSITION = LOCK_GATE + """
            INSERT INTO tandem_local.applied_position (source_site, epoch, commit_lsn, source_commit_at, applied_at, transactions)
            SELECT ?, ?, ?, to_timestamp(? / 1000.0), now(), 1 WHERE EXISTS (""" + FOLLOWING + """
            ) ON CONFLICT (source_site) DO NOTHING""";
    /** The next position: only over the one the transaction was applied after. */
    private static final String UPDATE_POSITION = LOCK_GATE + """
            UPDATE tandem_local.applied_position p SET epoch = ?, commit_lsn = ?, source_commit_at = to_timestamp(? / 1000.0),
                applied_at = now(), transactions = p.transactions + 1
            WHERE p.source_site = ? AND p.commit_lsn = ? AND EXISTS (""" + FOLLOWING + ")";

    /** Nanosecond time of the last frame, while a source transaction is open; else -1. */
    public long openTransactionSinceNanos() {
        return openXid >= 0 ? lastFrameNanos : -1;
    }

    /**
     * Applies the frame's rows in order, in runs of consecutive changes of the same shape (table,
     * operation, columns) that touch distinct keys. A run of new rows is one {@code COPY} (or, when
     * short, one insert over arrays); a run of upserted rows or deletes is one statement over arrays
     * ({@code unnest}); a run of partial updates is a batch of single-row updates.
     */
    private void applyRows(Connection c, Frame frame) throws SQLException {
        List<RowChange> rows = frame.rows();
        int i = 0;
        while (i < rows.size()) {
            RowChange first = rows.get(i);
            Set<List<String>> keys = new HashSet<>();
            keys.add(keyOf(first));
            int end = i + 1;
            while (end < rows.size() && sameShape(first, rows.get(end)) && keys.add(keyOf(rows.get(end)))) {
                end++;
            }
            boolean insert = first.isInsert() && !first.omitsColumns() && frame.xid() != upsertXid;
            boolean copy = insert && end - i >= COPY_MIN_ROWS;
            String sql = statement(frame.site(), first, insert, copy);
            List<String> columns = bindOrder(first);
            try (PreparedStatement ps = copy ? null : c.prepareStatement(sql)) {
                if (copy) {
                    copyIn(c, sql, rows, i, end, columns);
                } else if (first.omitsColumns()) {
                    updateEach(ps, frame, rows, i, end, columns);
                } else {
                    for (int col = 0; col < columns.size(); col++) {
                        String[] values = new String[end - i];
                        for (int r = i; r < end; r++) {
                            values[r - i] = rows.get(r).values().get(columns.get(col));
                        }
                        ps.setArray(col + 1, c.createArrayOf("text", values));
                    }
                    ps.executeUpdate();
                }
            } catch (DivergenceException e) {
                abandon();
                throw e;
            } catch (SQLException e) {
                abandon();
                throw failure(frame, first, end - i, insert, e);
            }
            stats.rows(end - i);
            if ("site_heartbeats".equals(first.table())) {
                heartbeatInTx = true;
            }
            i = end;
        }
    }

    private static SQLException failure(Frame frame, RowChange first, int count, boolean insert, SQLException e) {
        String failed = "applying " + count + " change(s) to tandem." + first.table() + " of source transaction "
                + frame.xid() + " from site '" + frame.site() + "' failed: " + e.getMessage();
        if (insert && UNIQUE_VIOLATION.equals(e.getSQLState())) {
            return new InsertConflictException(failed + "; a row it inserts collides with one that exists here already "
                    + "(written outside replication), so the transaction is applied again with upserts", e);
        }
        return new SQLException(failed, e.getSQLState(), e);
    }

    /**
     * Inserts a run of new rows with {@code COPY ... FROM STDIN} (text format): each value goes to
     * its column type's input function as it is, with no statement to parse or plan and no arrays
     * to build. On site b's PostgreSQL this took about a sixth less CPU than {@code INSERT ...
     * SELECT FROM unnest(...)} for 100,000 rows, and about a third less on the replicator's side
     * (a fifth less again where no column left out has a volatile default, as COPY then inserts in
     * batches). A value too long for a {@code varchar(n)} column fails here, where the upsert's cast
     * would cut it: the two sites' schemas differ then.
     */
    private void copyIn(Connection c, String sql, List<RowChange> rows, int from, int to, List<String> columns) throws SQLException {
        StringBuilder text = new StringBuilder(256 * (to - from));
        for (int r = from; r < to; r++) {
            Map<String, String> values = rows.get(r).values();
            for (int col = 0; col < columns.size(); col++) {
                if (col > 0) {
                    text.append('\t');
                }
                CopyText.append(text, values.get(columns.get(col)));
            }
            text.append('\n');
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
        try {
            copy.writeToCopy(bytes, 0, bytes.length);
            copy.endCopy();
        } catch (SQLException | RuntimeException e) {
            if (copy.isActive()) {
                // broken off mid-copy (an I/O error or a timeout, not a refused row, which ends the
                // copy): the connection may be out of step with the server, so it is not used again
                closeQuietly();
            }
            throw e;
        }
    }

    private void updateEach(PreparedStatement ps, Frame frame, List<RowChange> rows, int from, int to, List<String> columns)
            throws SQLException {
        for (int r = from; r < to; r++) {
            Map<String, String> values = rows.get(r).values();
            for (int col = 0; col < columns.size(); col++) {
                ps.setString(col + 1, values.get(columns.get(col)));
            }
            ps.addBatch();
        }
        int[] counts = ps.executeBatch();
        for (int k = 0; k < counts.length; k++) {
            if (counts[k] == 0) {
                throw new DivergenceException(frame, rows.get(from).table());
            }
        }
    }

    private static List<String> keyOf(RowChange row) {
        List<String> key = new ArrayList<>(row.key().size());
        for (String column : row.key()) {
            key.add(row.values().get(column));
        }
        return key;
    }

    private static boolean sameShape(RowChange a, RowChange b) {
        return a.table().equals(b.table()) && a.op().equals(b.op()) && a.omitsColumns() == b.omitsColumns()
                && (a.isDelete() || a.values().keySet().equals(b.values().keySet()));
    }

    private String statement(String source, RowChange row, boolean insert, boolean copy) throws SQLException {
        String shape = row.table() + '|' + row.op() + '|' + insert + '|' + copy + '|' + row.omitsColumns() + '|'
                + (row.isDelete() ? row.key() : row.values().keySet());
        String cached = statements.get(shape);
        if (cached != null) {
            return cached;
        }
        TableCatalog.Table table = catalog.table(row.table());
        if (table == null || !columnsKnown(table, row)) {
            catalog = TableCatalog.load(connection); // maybe migrated since; look again once
            table = catalog.table(row.table());
        }
        if (table == null) {
            throw new SchemaMismatchException(source, localSite, "table tandem." + row.table());
        }
        for (String column : row.values().keySet()) {
            if (!table.columnTypes().containsKey(column)) {
                throw new SchemaMismatchException(source, localSite, "column tandem." + row.table() + "." + column);
            }
        }
        if (!Objects.equals(table.primaryKey(), row.key())) {
            throw new SchemaMismatchException(source, localSite, "table tandem." + row.table() + " keyed by " + row.key()
                    + " (here: " + table.primaryKey() + ")");
        }
        List<String> columns = bindOrder(row);
        String sql = row.isDelete() ? deleteSql(table)
                : row.omitsColumns() ? updateSql(table, columns) : copy ? copySql(table, columns) : insert ? insertSql(table, columns) : upsertSql(table, columns);
        statements.put(shape, sql);
        return sql;
    }

    /** Parameter order: the key for a delete; changed columns then the key for a partial update. */
    private static List<String> bindOrder(RowChange row) {
        if (row.isDelete()) {
            return row.key();
        }
        List<String> columns = new ArrayList<>(row.values().keySet());
        if (row.omitsColumns()) {
            columns.removeAll(row.key());
            columns.addAll(row.key());
        }
        return columns;
    }

    private static boolean columnsKnown(TableCatalog.Table table, RowChange row) {
        return table.columnTypes().keySet().containsAll(row.values().keySet());
    }

    /** Deletes a run of keys given as text arrays, one per key column. */
    static String deleteSql(TableCatalog.Table table) {
        List<String> key = table.primaryKey();
        StringBuilder cols = new StringBuilder();
        StringBuilder casts = new StringBuilder();
        StringBuilder arrays = new StringBuilder();
        for (int i = 0; i < key.size(); i++) {
            String k = key.get(i);
            cols.append(i > 0 ? ", " : "").append(quote(k));
            casts.append(i > 0 ? ", " : "").append("CAST(u.").append(quote(k)).append(" AS ").append(table.columnTypes().get(k)).append(')');
            arrays.append(i > 0 ? ", " : "").append("CAST(? AS text[])");
        }
        return "DELETE FROM tandem." + quote(table.name()) + " WHERE (" + cols + ") IN (SELECT " + casts
                + " FROM unnest(" + arrays + ") AS u(" + cols + "))";
    }

    /** For a row that left out an unchanged large value: the row must exist; only the sent columns change. */
    static String updateSql(TableCatalog.Table table, List<String> columns) {
        StringBuilder sql = new StringBuilder("UPDATE tandem.").append(quote(table.name())).append(" SET ");
        StringBuilder where = new StringBuilder();
        int set = 0;
        for (String column : columns) {
            String cast = "CAST(? AS " + table.columnTypes().get(column) + ")";
            if (table.primaryKey().contains(column)) {
                where.append(where.length() > 0 ? " AND " : "").append(quote(column)).append(" = ").append(cast);
            } else {
                sql.append(set++ > 0 ? ", " : "").append(quote(column)).append(" = ").append(cast);
            }
        }
        return sql.append(" WHERE ").append(where).toString();
    }

    /**
     * Inserts a run of new rows, sent as COPY's text format. A plain insert costs site b's
     * PostgreSQL about a fifth less than an upsert (no speculative insertion); a key that exists
     * already fails it, and the transaction is then upserted.
     */
    static String copySql(TableCatalog.Table table, List<String> columns) {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < columns.size(); i++) {
            names.append(i > 0 ? ", " : "").append(quote(columns.get(i)));
        }
        return "COPY tandem." + quote(table.name()) + " (" + names + ") FROM STDIN";
    }

    /**
     * Inserts a run of new rows given as text arrays, one per column, cast to the column types (a
     * run too short for COPY); upserts build on it.
     */
    static String insertSql(TableCatalog.Table table, List<String> columns) {
        StringBuilder names = new StringBuilder();
        StringBuilder casts = new StringBuilder();
        StringBuilder arrays = new StringBuilder();
        for (int i = 0; i < columns.size(); i++) {
            String column = columns.get(i);
            names.append(i > 0 ? ", " : "").append(quote(column));
            casts.append(i > 0 ? ", " : "").append("CAST(u.").append(quote(column)).append(" AS ")
                    .append(table.columnTypes().get(column)).append(')');
            arrays.append(i > 0 ? ", " : "").append("CAST(? AS text[])");
        }
        return "INSERT INTO tandem." + quote(table.name()) + " (" + names + ") SELECT " + casts + " FROM unnest(" + arrays
                + ") AS u(" + names + ")";
    }

    /** Upserts a run of full rows given as text arrays, one per column, cast to the column types. */
    static String upsertSql(TableCatalog.Table table, List<String> columns) {
        StringBuilder updates = new StringBuilder();
        for (String column : columns) {
            if (!table.primaryKey().contains(column)) {
                updates.append(updates.length() > 0 ? ", " : "").append(quote(column)).append(" = EXCLUDED.").append(quote(column));
            }
        }
        StringBuilder sql = new StringBuilder(insertSql(table, columns)).append(" ON CONFLICT (");
        for (int i = 0; i < table.primaryKey().size(); i++) {
            sql.append(i > 0 ? ", " : "").append(quote(table.primaryKey().get(i)));
        }
        sql.append(updates.length() == 0 ? ") DO NOTHING" : ") DO UPDATE SET " + updates);
        return sql.toString();
    }

    static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    /** Whether frames of source transaction {@code xid} are being applied now (or set aside until its last frame decides). */
    public boolean inTransaction(long xid) {
        return (openXid == xid && openXid >= 0) || (skipping != null && skipping.xid() == xid);
    }

    /**
     * Rolls back a half-applied transaction (the stream broke, or a stream starts); the next frame
     * must start one, and it reads the site state afresh.
     */
    public void abandon() {
        openXid = -1;
        followed = null;
        if (connection != null) {
            try {
                connection.rollback();
            } catch (SQLException e) {
                closeQuietly();
            }
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = connections.get();
            connection.setAutoCommit(false);
            // recordPosition relies on it: each statement sees what committed before it started
            connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            try (Statement s = connection.createStatement()) {
                s.execute("SET session_replication_role = replica");
                s.execute("SET synchronous_commit = on");
            }
            connection.commit();
            catalog = TableCatalog.load(connection);
            connection.commit();
            statements.clear();
            openXid = -1;
            followed = null;
        }
        return connection;
    }

    private void closeQuietly() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // already broken
        }
        connection = null;
    }

    @Override
    public void close() {
        abandon();
        closeQuietly();
    }
}
