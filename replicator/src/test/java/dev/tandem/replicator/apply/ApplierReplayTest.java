package dev.tandem.replicator.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.replicator.stream.Frame;
import dev.tandem.replicator.stream.RowChange;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Apply on a passive site when a restart resends transactions: the ones applied before are
 * dropped, and a transaction whose inserts met rows already there is applied with upserts when it
 * comes again, even if replays of older transactions (which collide with their own rows) come
 * between its failure and its next delivery, as they do after a Kafka consumer restarts. And when
 * things change under an applier between two of its transactions (another replicator applied, the
 * site moved on to another epoch), which it learns only at the next one's end.
 */
class ApplierReplayTest {
    /** The database of the running test: each test has its own, as each starts from nothing applied. */
    private String url;

    private Applier passiveSite(String name) throws SQLException {
        url = TestPostgres.newDatabase(name);
        TestPostgres.migratedPool(url, 2).close();
        exec("CREATE TABLE tandem.replay_probe (id bigint PRIMARY KEY, v text NOT NULL)",
                "INSERT INTO tandem_local.site_state (site_id, role, epoch, active_site_id) VALUES ('b', 'passive', 1, 'a')");
        return new Applier("b", this::connect, new ApplyStats(new MetricRegistry()));
    }

    @Test
    void aTransactionThatMetExistingRowsIsUpsertedOnItsNextDeliveryEvenAfterReplaysOfOlderOnes() throws SQLException {
        try (Applier applier = passiveSite("applier-replay")) {
            replayBetweenFailureAndRetry(applier);
        }
    }

    /**
     * A replayed transaction of several frames collides with its own rows at its first frame: it
     * stays "in transaction" (so the Kafka loop hands it the rest) until its last frame shows it was
     * applied before, and is then dropped without a trace; the next transaction applies.
     */
    @Test
    void aReplayedTransactionOfSeveralFramesIsSetAsideUntilItsLastFrameAndDropped() throws SQLException {
        try (Applier applier = passiveSite("applier-replay-frames")) {
            List<Frame> first = frames(20, 0, 100, "first", 11, 12, 13);
            assertThat(applyAll(applier, first)).containsExactly(-1L, -1L, 100L);

            exec("UPDATE tandem.replay_probe SET v = 'changed on a later' WHERE id = 12"); // as a newer transaction would
            assertThat(applier.apply(first.get(0))).isEqualTo(-1);
            assertThat(applier.inTransaction(20)).as("set aside, not forgotten: its other frames still belong to it").isTrue();
            assertThat(applier.apply(first.get(1))).isEqualTo(-1);
            assertThat(applier.apply(first.get(2))).as("its end shows it was applied before").isEqualTo(-1);
            assertThat(applier.inTransaction(20)).isFalse();
            assertThat(value(12)).as("the replay changed nothing").isEqualTo("changed on a later");

            assertThat(applyAll(applier, frames(21, 100, 200, "second", 14, 15))).containsExactly(-1L, 200L);
            assertThat(value(15)).isEqualTo("second");
            assertThat(appliedPosition()).isEqualTo(200);
        }
    }

    /**
     * A site seeded at position 100 has applied no transaction itself, and the first one streamed
     * after the copy names the older position its capture resumed from. When that transaction fails
     * at its first frame it is set aside as a possible replay. Its last frame shows it is new, so
     * the failure is raised then, and its next delivery is applied with upserts.
     */
    @Test
    void aSetAsideTransactionThatTurnsOutNewFailsAtItsLastFrameAndIsUpsertedWhenItComesAgain() throws SQLException {
        try (Applier applier = passiveSite("applier-replay-new")) {
            exec("INSERT INTO tandem_local.applied_position (source_site, epoch, commit_lsn) VALUES ('a', 1, 100)", // as a seed leaves it
                    "INSERT INTO tandem.replay_probe VALUES (22, 'written on b behind replication')");
            List<Frame> afterCopy = frames(31, 50, 150, "streamed", 22, 23);
            assertThat(applier.apply(afterCopy.get(0))).isEqualTo(-1);
            assertThat(applier.inTransaction(31)).isTrue();
            assertThatThrownBy(() -> applier.apply(afterCopy.get(1))).isInstanceOf(Applier.InsertConflictException.class);
            assertThat(appliedPosition()).isEqualTo(100);
            applier.abandon();

            assertThat(applyAll(applier, afterCopy)).containsExactly(-1L, 150L);
            assertThat(value(22)).isEqualTo("streamed");
            assertThat(value(23)).isEqualTo("streamed");
        }
    }

    /**
     * Two replicators apply the same stream on one site (a leader that lost its lock and does not
     * know it yet, and its successor): each transaction is applied once. The one whose stored
     * position moved since its last commit learns it at the end of its next transaction (or from
     * the rows the other one wrote) and rolls that transaction back.
     */
    @Test
    void aTransactionAnotherReplicatorAppliedMeanwhileIsRolledBackNotAppliedTwice() throws SQLException {
        try (Applier one = passiveSite("applier-two-leaders");
             Applier two = new Applier("b", this::connect, new ApplyStats(new MetricRegistry()))) {
            assertThat(one.apply(insert(10, 0, 100, 1, "from a"))).isEqualTo(100);
            Frame second = insert(11, 100, 200, 2, "second");
            assertThat(two.apply(second)).isEqualTo(200);

            // Its insert meets the row the other one wrote: not a conflict with rows written outside
            // replication (which would be retried with upserts), since the stored position moved.
            assertThatThrownBy(() -> one.apply(second)).isInstanceOf(Applier.PositionMovedException.class)
                    .hasMessageContaining("was applied after position 100, but the position stored here is now 200");
            one.abandon(); // as its loop does on an error, before it resumes from the stored position
            assertThat(one.apply(second)).as("now known to be applied before").isEqualTo(-1);

            assertThat(one.apply(upsert(12, 200, 300, 1, "third"))).isEqualTo(300);
            Frame fourth = upsert(13, 300, 400, 1, "fourth");
            assertThat(two.apply(fourth)).isEqualTo(400);
            assertThat(one.apply(fourth)).as("its upsert went through, but the position had moved past it: dropped").isEqualTo(-1);
            assertThat(appliedTransactions()).as("each transaction counted once").isEqualTo(4);
            assertThat(value(1)).isEqualTo("fourth");

            // The position moved, but not past the transaction (as a copy of the same epoch leaves it):
            // rolled back, to be applied again from the stored position.
            exec("UPDATE tandem_local.applied_position SET commit_lsn = 450");
            assertThatThrownBy(() -> two.apply(insert(14, 400, 500, 4, "fifth"))).isInstanceOf(Applier.PositionMovedException.class)
                    .hasMessageContaining("was applied after position 400, but the position stored here is now 450");
            assertThat(value(4)).isNull();
            assertThat(appliedPosition()).isEqualTo(450);
        }
    }

    /**
     * Between two transactions the site is promoted: the next transaction, which starts without
     * reading the site state, is refused at its end and leaves nothing behind.
     */
    @Test
    void aTransactionWhoseSiteWasPromotedSinceTheLastCommitIsRefusedAtItsEndAndLeavesNothing() throws SQLException {
        try (Applier applier = passiveSite("applier-site-changed")) {
            assertThat(applier.apply(insert(10, 0, 100, 1, "from a"))).isEqualTo(100);
            exec("UPDATE tandem_local.site_state SET role = 'active', active_site_id = 'b', epoch = 2");

            assertThatThrownBy(() -> applier.apply(insert(11, 100, 200, 2, "from epoch 1")))
                    .isInstanceOf(ApplyRefusedException.class)
                    .hasMessageContaining("changed while transaction 11 was applied (now active, following 'b' at epoch 2)");
            assertThat(value(2)).isNull();
            assertThat(appliedPosition()).isEqualTo(100);
        }
    }

    private void replayBetweenFailureAndRetry(Applier applier) throws SQLException {
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

    /** One insert per id, one frame each; the last frame commits at {@code commitLsn}. */
    private static List<Frame> frames(long xid, long prevLsn, long commitLsn, String value, long... ids) {
        List<Frame> frames = new java.util.ArrayList<>();
        for (int seq = 0; seq < ids.length; seq++) {
            boolean last = seq == ids.length - 1;
            RowChange row = new RowChange("replay_probe", RowChange.INSERT, List.of("id"),
                    Map.of("id", String.valueOf(ids[seq]), "v", value), null);
            frames.add(new Frame("a", 1, prevLsn, xid, seq, last, last ? commitLsn : null, System.currentTimeMillis(), List.of(row)));
        }
        return frames;
    }

    private static List<Long> applyAll(Applier applier, List<Frame> frames) throws SQLException {
        List<Long> results = new java.util.ArrayList<>();
        for (Frame frame : frames) {
            results.add(applier.apply(frame));
        }
        return results;
    }

    private long appliedPosition() throws SQLException {
        try (Connection c = TestPostgres.connect(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT commit_lsn FROM tandem_local.applied_position WHERE source_site = 'a'")) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    private static Frame insert(long xid, long prevLsn, long commitLsn, long id, String value) {
        RowChange row = new RowChange("replay_probe", RowChange.INSERT, List.of("id"), Map.of("id", String.valueOf(id), "v", value), null);
        return new Frame("a", 1, prevLsn, xid, 0, true, commitLsn, System.currentTimeMillis(), List.of(row));
    }

    /** A full-row change of an existing row, as an update arrives: applied as an upsert. */
    private static Frame upsert(long xid, long prevLsn, long commitLsn, long id, String value) {
        RowChange row = new RowChange("replay_probe", RowChange.UPSERT, List.of("id"), Map.of("id", String.valueOf(id), "v", value), null);
        return new Frame("a", 1, prevLsn, xid, 0, true, commitLsn, System.currentTimeMillis(), List.of(row));
    }

    private long appliedTransactions() throws SQLException {
        try (Connection c = TestPostgres.connect(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT transactions FROM tandem_local.applied_position WHERE source_site = 'a'")) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    private Connection connect() {
        try {
            return TestPostgres.connect(url);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private String value(long id) throws SQLException {
        try (Connection c = TestPostgres.connect(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT v FROM tandem.replay_probe WHERE id = " + id)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private void exec(String... sql) throws SQLException {
        try (Connection c = TestPostgres.connect(url); Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        }
    }
}
