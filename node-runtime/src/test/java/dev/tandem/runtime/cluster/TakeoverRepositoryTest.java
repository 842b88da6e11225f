package dev.tandem.runtime.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.kernel.testing.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The takeover protocol's SQL on the real database: one claimer per dead member, nothing claimed
 * from a live one, its running executions incomplete and pending their re-run, its queue sent to a
 * live member, a former site's runs settled once per epoch, and pending re-runs taken one
 * transaction at a time.
 */
class TakeoverRepositoryTest {
    static final Duration DEAD_AFTER = Duration.ofSeconds(5);
    static HikariDataSource pool;
    static Jdbi jdbi;
    final TakeoverRepository takeovers = new TakeoverRepository();
    UUID project;

    @BeforeAll
    static void database() {
        pool = TestPostgres.migratedPool(TestPostgres.newDatabase("takeover"), 4);
        jdbi = Jdbi.create(pool);
    }

    @AfterAll
    static void close() {
        pool.close();
    }

    @BeforeEach
    void rows() {
        jdbi.useHandle(h -> {
            h.execute("TRUNCATE tandem.executions, tandem.projects, tandem_local.members, tandem_local.dispatch_queue, "
                    + "tandem_local.site_takeovers, tandem_local.schedules CASCADE");
            project = UUID.randomUUID();
            h.execute("INSERT INTO tandem.projects (id, name, created_at, updated_at) VALUES (?, 'p', now(), now())", project);
        });
    }

    void member(String id, String heartbeatAge) {
        jdbi.useHandle(h -> h.execute("INSERT INTO tandem_local.members (id, name, url, heartbeat_at) VALUES (?, ?, 'http://x', now() - "
                + "CAST(? AS interval))", id, id, heartbeatAge));
    }

    UUID execution(String member, String status) {
        UUID id = UUID.randomUUID();
        jdbi.useHandle(h -> h.execute("INSERT INTO tandem.executions (id, project_id, job_name, status, user_name, member_id, started_at) "
                + "VALUES (?, ?, 'job', ?, 'u', ?, now())", id, project, status, member));
        return id;
    }

    void queued(UUID execution, String target) {
        jdbi.useHandle(h -> h.execute("INSERT INTO tandem_local.dispatch_queue (execution_id, target_member, payload) VALUES (?, ?, ?)",
                execution, target, new byte[0]));
    }

    static String text(String sql) {
        return jdbi.withHandle(h -> h.createQuery(sql).mapTo(String.class).one());
    }

    static int count(String sql) {
        return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Integer.class).one());
    }

    Optional<UUID> takeRerun(List<UUID> only, Duration settledFor, UUID... skip) {
        return jdbi.inTransaction(h -> takeovers.takePendingRerun(h, only, settledFor, skip));
    }

    String statusOf(UUID execution) {
        return jdbi.withHandle(h -> h.createQuery("SELECT status || '/' || rerun_pending || '/' || member_id FROM tandem.executions WHERE id = ?")
                .bind(0, execution).mapTo(String.class).one());
    }

    @Test
    void oneMemberClaimsADeadMemberAndItsRunningExecutionsArePendingTheirReRun() {
        member("dead", "1 minute");
        member("m2", "0 seconds");
        member("m3", "0 seconds");
        UUID running = execution("dead", "running");
        UUID done = execution("dead", "succeeded");

        Optional<List<UUID>> won = jdbi.inTransaction(h -> takeovers.claimDeadMember(h, "dead", "m2", DEAD_AFTER, "member dead died"));
        Optional<List<UUID>> late = jdbi.inTransaction(h -> takeovers.claimDeadMember(h, "dead", "m3", DEAD_AFTER, "member dead died"));

        assertThat(won).contains(List.of(running));
        assertThat(late).as("the second claimer finds it taken").isEmpty();
        assertThat(statusOf(running)).isEqualTo("incomplete/true/dead");
        assertThat(statusOf(done)).as("a finished execution is left alone").isEqualTo("succeeded/false/dead");
        assertThat(text("SELECT taken_over_by FROM tandem_local.members WHERE id = 'dead'")).isEqualTo("m2");
    }

    @Test
    void aMemberWhoseHeartbeatIsYoungerThanTheDeadTimeCannotBeClaimed() {
        member("slow", "4 seconds");
        UUID running = execution("slow", "running");
        Optional<List<UUID>> claimed = jdbi.inTransaction(h -> takeovers.claimDeadMember(h, "slow", "m2", DEAD_AFTER, "no"));
        assertThat(claimed).isEmpty();
        assertThat(statusOf(running)).isEqualTo("running/false/slow");
    }

    @Test
    void whatWasQueuedForAGoneMemberGoesToTheLiveOneAndWakesIt() {
        member("dead", "1 minute");
        member("m2", "0 seconds");
        UUID first = execution("dead", "queued");
        UUID second = execution("dead", "queued");
        queued(first, "dead");
        queued(second, "dead");
        UUID elsewhere = execution("m2", "queued");
        queued(elsewhere, "m2");

        int moved = jdbi.inTransaction(h -> {
            h.execute("LISTEN tandem_dispatch");
            return takeovers.requeue(h, "dead", "m2");
        });
        assertThat(moved).isEqualTo(2);
        assertThat(count("SELECT count(*) FROM tandem_local.dispatch_queue WHERE target_member = 'm2'")).isEqualTo(3);
        assertThat(statusOf(first)).isEqualTo("queued/false/m2");
        assertThat(statusOf(second)).isEqualTo("queued/false/m2");
    }

    @Test
    void aFormerSitesRunsAreSettledByOneMemberOncePerEpoch() {
        member("m1", "0 seconds");
        UUID ours = execution("m1", "running");
        UUID theirsRunning = execution("other-site-member", "running");
        UUID theirsQueued = execution("other-site-member", "queued");
        jdbi.useHandle(h -> h.execute("INSERT INTO tandem_local.schedules (job_id, owner_member, cron, time_zone, next_fire_at) "
                + "VALUES (?, 'm1', '0 * * * * ? *', 'UTC', now())", UUID.randomUUID()));

        Optional<List<UUID>> first = jdbi.inTransaction(h -> takeovers.settleFormerSite(h, 2, "m1", "site b took over at epoch 2"));
        Optional<List<UUID>> again = jdbi.inTransaction(h -> takeovers.settleFormerSite(h, 2, "m2", "site b took over at epoch 2"));

        assertThat(first.orElseThrow()).containsExactlyInAnyOrder(theirsRunning, theirsQueued);
        assertThat(again).as("the epoch is settled once").isEmpty();
        assertThat(statusOf(ours)).as("this site's own run is left alone").isEqualTo("running/false/m1");
        assertThat(statusOf(theirsQueued)).isEqualTo("incomplete/true/other-site-member");
        assertThat(count("SELECT count(*) FROM tandem_local.schedules")).as("stale schedule rows are dropped, to be rebuilt from the jobs")
                .isZero();
        assertThat(text("SELECT member_id || ':' || executions FROM tandem_local.site_takeovers WHERE epoch = 2")).isEqualTo("m1:2");
    }

    @Test
    void twoTransactionsNeverTakeTheSamePendingReRunAndATakenOneIsNoLongerPending() throws Exception {
        member("dead", "1 minute");
        UUID a = execution("dead", "running");
        UUID b = execution("dead", "running");
        jdbi.useTransaction(h -> takeovers.claimDeadMember(h, "dead", "m2", DEAD_AFTER, "died"));
        jdbi.useHandle(h -> h.execute("UPDATE tandem.executions SET ended_at = now() - interval '1 minute'"));

        try (Handle one = jdbi.open(); Handle two = jdbi.open()) {
            one.begin();
            two.begin();
            Optional<UUID> first = takeovers.takePendingRerun(one, null, Duration.ofSeconds(1), new UUID[0]);
            Optional<UUID> second = takeovers.takePendingRerun(two, null, Duration.ofSeconds(1), new UUID[0]);
            Optional<UUID> none = takeovers.takePendingRerun(two, null, Duration.ofSeconds(1), new UUID[0]);
            one.commit();
            two.commit();
            assertThat(List.of(first.orElseThrow(), second.orElseThrow())).containsExactlyInAnyOrder(a, b);
            assertThat(none).as("the other is locked by the first transaction, and this one took its own").isEmpty();
        }
        assertThat(statusOf(a)).isEqualTo("incomplete/false/dead");
        assertThat(statusOf(b)).isEqualTo("incomplete/false/dead");
        assertThat(takeRerun(null, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void aRunMarkedJustNowWaitsUnlessItIsNamedOrSkipped() {
        member("dead", "1 minute");
        UUID fresh = execution("dead", "running");
        UUID other = execution("dead", "running");
        jdbi.useTransaction(h -> takeovers.claimDeadMember(h, "dead", "m2", DEAD_AFTER, "died"));

        assertThat(takeRerun(null, Duration.ofSeconds(30))).as("a member that just marked it decides it first").isEmpty();
        assertThat(takeRerun(List.of(fresh), Duration.ofSeconds(30), fresh)).as("a skipped run is passed over even when named").isEmpty();
        assertThat(takeRerun(List.of(fresh), Duration.ofSeconds(30))).contains(fresh);
        assertThat(statusOf(other)).as("a run not named stays pending").isEqualTo("incomplete/true/dead");
    }
}
