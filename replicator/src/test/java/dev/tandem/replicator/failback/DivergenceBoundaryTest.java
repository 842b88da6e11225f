package dev.tandem.replicator.failback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The divergence report's boundary (DESIGN.md invariant 6). The applied position is the end of
 * the last applied transaction's commit record; the next transaction's commit record can start
 * exactly there when its rows were written before that commit. That transaction was not applied
 * and must be listed; the one before it must not be.
 */
class DivergenceBoundaryTest {
    static final String URL = TestPostgres.newDatabase("divergence");
    static com.zaxxer.hikari.HikariDataSource pool;

    @BeforeAll
    static void schema() throws SQLException {
        pool = TestPostgres.migratedPool(URL, 4);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE PUBLICATION boundary_pub FOR TABLE tandem.projects");
            s.execute("CREATE PUBLICATION secrets_pub FOR TABLE tandem.users, tandem.api_tokens, tandem.keys");
        }
    }

    @AfterAll
    static void close() {
        pool.close();
    }

    /** Two transactions whose commit records touch: T2's rows are written, T1 commits, T2 commits at once. */
    record Pair(String slot, PgOutputDecoder.Transaction first, PgOutputDecoder.Transaction second) {}

    static Pair adjacentCommits() throws SQLException {
        for (int attempt = 0; attempt < 10; attempt++) {
            String slot = "boundary_" + attempt + "_" + System.nanoTime();
            try (Connection admin = pool.getConnection(); Statement s = admin.createStatement()) {
                s.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
            }
            try (Connection one = pool.getConnection(); Connection two = pool.getConnection()) {
                two.setAutoCommit(false);
                insertProject(two, "second-" + attempt);
                one.setAutoCommit(false);
                insertProject(one, "first-" + attempt);
                one.commit();
                two.commit();
            }
            List<PgOutputDecoder.Transaction> decoded = peek(slot);
            if (decoded.size() == 2 && decoded.get(1).finalLsn() == decoded.get(0).endLsn()) {
                return new Pair(slot, decoded.get(0), decoded.get(1));
            }
            dropSlot(slot); // another record (a checkpoint, a vacuum) fell between the two commits: again
        }
        throw new IllegalStateException("no two adjacent commit records in 10 attempts");
    }

    static void insertProject(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO tandem.projects (id, name, created_at, updated_at) VALUES (?, ?, now(), now())")) {
            ps.setObject(1, UUID.randomUUID());
            ps.setString(2, name);
            ps.executeUpdate();
        }
    }

    static List<PgOutputDecoder.Transaction> peek(String slot) throws SQLException {
        PgOutputDecoder decoder = new PgOutputDecoder();
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT data FROM pg_logical_slot_peek_binary_changes(?, NULL, NULL, 'proto_version', '1', 'publication_names', 'boundary_pub')")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    decoder.accept(rs.getBytes(1));
                }
            }
        }
        return decoder.transactions();
    }

    static void dropSlot(String slot) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
        }
    }

    static DivergenceReport report(String slot, long applied) throws SQLException {
        try (Connection c = pool.getConnection()) {
            return DivergenceReporter.report(c, slot, "boundary_pub", "a", 1, "b", 2, applied);
        }
    }

    static List<Long> listed(DivergenceReport report) {
        return report.transactions().stream().map(DivergenceReport.Entry::xid).toList();
    }

    @Test
    void aTransactionWhoseCommitStartsExactlyAtTheAppliedPositionIsListedAndTheAppliedOneIsNot() throws SQLException {
        Pair pair = adjacentCommits();
        try {
            long applied = pair.first().endLsn();
            assertThat(listed(report(pair.slot(), applied))).as("applied up to the end of the first commit")
                    .containsExactly(pair.second().xid());
            assertThat(listed(report(pair.slot(), pair.second().endLsn()))).as("applied up to the end of the second").isEmpty();
            assertThat(listed(report(pair.slot(), -1))).as("nothing applied")
                    .containsExactly(pair.first().xid(), pair.second().xid());

            // As in a drill: the slot was confirmed up to the applied position, so the first
            // transaction is no longer decoded at all; the second is still listed.
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.execute("SELECT pg_replication_slot_advance('" + pair.slot() + "', '" + org.postgresql.replication.LogSequenceNumber.valueOf(applied).asString() + "'::pg_lsn)");
            }
            assertThat(listed(report(pair.slot(), applied))).containsExactly(pair.second().xid());
        } finally {
            dropSlot(pair.slot());
        }
    }

    @Test
    void theReportNamesChangedSecretsButNeverShowsHashesOrKeyMaterial() throws SQLException {
        String slot = "secrets_" + System.nanoTime();
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
            UUID user = UUID.randomUUID();
            s.execute("INSERT INTO tandem.users (id, name, password_hash, created_at) VALUES ('" + user
                    + "', 'operator', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', now())");
            s.execute("INSERT INTO tandem.api_tokens (id, user_id, token_hash, created_at) VALUES (gen_random_uuid(), '" + user
                    + "', 'token-hash-3f2a', now())");
            s.execute("INSERT INTO tandem.keys (id, path, key_type, master_key_id, nonce, ciphertext, size_bytes, created_by, created_at, updated_at)"
                    + " VALUES (gen_random_uuid(), 'keys/project/p/pw', 'password', 'k1', '\\x0102', '\\xcafebabe', 4, 'operator', now(), now())");
        }
        try {
            DivergenceReport report;
            try (Connection c = pool.getConnection()) {
                report = DivergenceReporter.report(c, slot, "secrets_pub", "a", 1, "b", 2, -1);
            }
            List<PgOutputDecoder.Change> changes = report.transactions().stream().flatMap(e -> e.changes().stream()).toList();
            assertThat(changes).extracting(PgOutputDecoder.Change::table).containsExactly("users", "api_tokens", "keys");
            assertThat(changes.get(0).values()).containsEntry("name", "operator").containsEntry("password_hash", "*****");
            assertThat(changes.get(1).values()).containsEntry("token_hash", "*****");
            assertThat(changes.get(2).values()).containsEntry("path", "keys/project/p/pw").containsEntry("nonce", "*****")
                    .containsEntry("ciphertext", "*****");
            assertThat(changes.toString()).doesNotContain("argon2id", "token-hash-3f2a", "cafebabe");
        } finally {
            dropSlot(slot);
        }
    }
}
