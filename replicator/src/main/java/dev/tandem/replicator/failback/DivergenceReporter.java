package dev.tandem.replicator.failback;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the divergence report from this site's own capture slot, without consuming it: the slot
 * was never confirmed past what every passive site applied, so every transaction the new active
 * site may lack is still decodable ({@code pg_logical_slot_peek_binary_changes}, pgoutput). The
 * slot must not be in use (capture stopped: the site is fenced).
 */
public final class DivergenceReporter {
    private static final String HEARTBEATS = "site_heartbeats";
    /**
     * Columns whose values the report never shows: password and token hashes (an offline guess
     * needs only the hash) and key storage's encrypted values. The report is read by operators
     * deciding what to redo by hand; which row changed is what they need, not its secret.
     */
    static final java.util.Set<String> MASKED = java.util.Set.of("users.password_hash", "api_tokens.token_hash", "keys.nonce",
            "keys.ciphertext");
    static final String MASK = "*****";

    private DivergenceReporter() {
    }

    private static boolean follows(Connection c, String activeSite) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM tandem_local.applied_position WHERE source_site = ?")) {
            ps.setString(1, activeSite);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    static PgOutputDecoder.Change masked(PgOutputDecoder.Change change) {
        return new PgOutputDecoder.Change(change.table(), change.operation(), mask(change.table(), change.key()), mask(change.table(), change.values()));
    }

    private static java.util.Map<String, String> mask(String table, java.util.Map<String, String> values) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        values.forEach((column, value) -> out.put(column, value != null && MASKED.contains(table + "." + column) ? MASK : value));
        return out;
    }

    /** The report for {@code site} (active until {@code epoch}) against what {@code activeSite} applied. */
    public static DivergenceReport report(Connection c, String slot, String publication, String site, long epoch, String activeSite,
                                          long activeEpoch, long applied) throws SQLException {
        String generated = Instant.now().toString();
        String walStatus = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(wal_status, 'unknown') FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    walStatus = rs.getString(1);
                }
            }
        }
        String after = applied < 0 ? "the beginning" : "position " + applied;
        if (walStatus == null && follows(c, activeSite)) {
            // No slot, but this site applies the active site's changes: it was a passive site, and
            // committed nothing of its own to the replicated tables.
            return new DivergenceReport(site, epoch, activeSite, activeEpoch, applied, generated, List.of(), 0, null);
        }
        if (walStatus == null) {
            return new DivergenceReport(site, epoch, activeSite, activeEpoch, applied, generated, List.of(), 0,
                    "this site has no replication slot '" + slot + "' any more, so what it committed after " + after
                            + " cannot be decoded: compare the sites by hand (or accept the loss) before reseeding");
        }
        if ("lost".equals(walStatus)) {
            return new DivergenceReport(site, epoch, activeSite, activeEpoch, applied, generated, List.of(), 0,
                    "replication slot '" + slot + "' was invalidated (it held more WAL than max_slot_wal_keep_size): the WAL after "
                            + after + " is gone, so what this site committed after it cannot be listed; the transactions "
                            + "site '" + activeSite + "' applied are safe, anything later from this site is lost");
        }
        PgOutputDecoder decoder = new PgOutputDecoder();
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false); // a cursor: the changes are read in batches, not all at once
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT data FROM pg_logical_slot_peek_binary_changes(?, NULL, NULL, 'proto_version', '1', 'publication_names', ?)")) {
            ps.setFetchSize(1000);
            ps.setString(1, slot);
            ps.setString(2, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    decoder.accept(rs.getBytes(1));
                }
            }
            c.commit();
        } finally {
            c.setAutoCommit(autoCommit);
        }
        List<PgOutputDecoder.Transaction> all = decoder.transactions();
        // The applied position is the END of the last applied transaction's commit record (apply
        // stores the frame's commit position, Debezium's lsn_commit: the WAL position pgoutput gives
        // its COMMIT message, the end of the record). The next transaction's commit record may START
        // exactly there (its rows were logged before the previous commit), so a transaction was
        // applied when its commit record ends at or before the position: PostgreSQL's own rule
        // against a slot's confirmed position. -1: nothing was applied.
        List<DivergenceReport.Entry> entries = new ArrayList<>();
        int heartbeats = 0;
        for (PgOutputDecoder.Transaction t : all) {
            boolean wasApplied = t.endLsn() <= applied;
            if (wasApplied || t.changes().isEmpty()) {
                continue;
            }
            if (t.onlyTable(HEARTBEATS)) {
                heartbeats++;
                continue;
            }
            entries.add(new DivergenceReport.Entry(t.xid(), t.finalLsn(), t.committedAt().toString(),
                    t.changes().stream().map(DivergenceReporter::masked).toList()));
        }
        // The slot was confirmed only through transactions every peer had applied (capture's slot
        // safety), so nothing the active site lacks lies before it: the list is complete.
        return new DivergenceReport(site, epoch, activeSite, activeEpoch, applied, generated, entries, heartbeats, null);
    }
}
