package dev.tandem.replicator.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import dev.tandem.replicator.transport.Frame;
import dev.tandem.replicator.transport.RowChange;
import dev.tandem.runtime.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Apply on a passive site when a restart resends transactions: the ones applied before are
 * dropped, and a transaction whose inserts met rows already there is applied with upserts when it
 * comes again, even if replays of older transactions (which collide with their own rows) come
 * between its failure and its next delivery, as they do after a Kafka consumer restarts.
 */
class ApplierReplayTest {
    static String url;

    @BeforeAll
    static void database() throws SQLException {
        url = TestPostgres.newDatabase("applier-replay");
        TestPostgres.migratedPool(url, 2).close();
        exec("CREATE TABLE tandem.replay_probe (id bigint PRIMARY KEY, v text NOT NULL)",
                "INSERT INTO tandem_local.site_state (site_id, role, epoch, active_site_id) VALUES ('b', 'passive', 1, 'a')");
    }

    @Test
    void aTransactionThatMetExistingRowsIsUpsertedOnItsNextDeliveryEvenAfterReplaysOfOlderOnes() throws SQLException {
        try (Applier applier = new Applier("b", ApplierReplayTest::connect, new ApplyStats(new MetricRegistry()))) {
            replayBetweenFailureAndRetry(applier);
        }
    }

    private static void replayBetweenFailureAndRetry(Applier applier) throws SQLException {
        Frame first = insert(10, 0, 100, 1, "from a");
        assertThat(applier.apply(first)).isEqualTo(100);

        exec("INSERT INTO tandem.replay_probe VALUES (2, 'written on b behind replication')");
        Frame second = insert(11, 100, 200, 2, "from a, second");
        assertThatThrownBy(() -> applier.apply(second)).isInstanceOf(Applier.InsertConflictException.class)
                .hasMessageContaining("collides with one that exists here already");
        applier.abandon();

        // The restart resends from an older position: the first transaction again, whose insert
        // now meets its own row. It is a replay, dropped, and must not change what the failed one gets.
        assertThat(applier.apply(first)).as("a replay is dropped").isEqualTo(-1);
        assertThat(applier.apply(second)).as("the failed transaction, applied with upserts").isEqualTo(200);
        assertThat(value(2)).isEqualTo("from a, second");
        assertThat(value(1)).isEqualTo("from a");
    }

    private static Frame insert(long xid, long prevLsn, long commitLsn, long id, String value) {
        RowChange row = new RowChange("replay_probe", RowChange.INSERT, List.of("id"), Map.of("id", String.valueOf(id), "v", value), null);
        return new Frame("a", 1, prevLsn, xid, 0, true, commitLsn, System.currentTimeMillis(), List.of(row));
    }

    private static Connection connect() {
        try {
            return TestPostgres.connect(url);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String value(long id) throws SQLException {
        try (Connection c = TestPostgres.connect(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT v FROM tandem.replay_probe WHERE id = " + id)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static void exec(String... sql) throws SQLException {
        try (Connection c = TestPostgres.connect(url); Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        }
    }
}
