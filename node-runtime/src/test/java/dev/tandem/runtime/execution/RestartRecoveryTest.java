package dev.tandem.runtime.execution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.TandemApplication;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.DropwizardTestSupport;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A member that died leaves its executions 'running' in the database; when it starts again it
 * marks them incomplete with the reason, and leaves other members' executions alone.
 */
class RestartRecoveryTest {

    @Test
    void executionsLeftRunningByADeadMemberBecomeIncompleteWhenItRestarts() throws Exception {
        String db = TestPostgres.newDatabase("restart");
        DropwizardAppExtension<TandemConfiguration> first = RuntimeFixture.runtime(db, "member-r1");
        first.before();
        UUID mine = UUID.randomUUID();
        UUID someoneElses = UUID.randomUUID();
        try {
            Api api = RuntimeFixture.api(first);
            api.post("/api/v1/projects", Map.of("name", "p"));
            api.postYaml("/api/v1/projects/p/jobs/import", "- name: nightly\n  schedule: {crontab: '0 0 3 * * ?'}\n  sequence: {commands: [{exec: 'true'}]}\n");
            try (Connection c = TestPostgres.connect(db)) {
                c.createStatement().executeUpdate("DELETE FROM tandem_local.schedules");
            }
            try (Connection c = TestPostgres.connect(db);
                 PreparedStatement s = c.prepareStatement("""
                         INSERT INTO tandem.executions (id, project_id, job_name, status, user_name, member_id, started_at)
                         SELECT ?, id, 'crashed job', 'running', 'admin', ?, now() FROM tandem.projects WHERE name = 'p'""")) {
                s.setObject(1, mine);
                s.setString(2, "member-r1");
                s.executeUpdate();
                s.setObject(1, someoneElses);
                s.setString(2, "member-r2");
                s.executeUpdate();
            }
        } finally {
            first.after();
        }

        DropwizardTestSupport<TandemConfiguration> again = new DropwizardTestSupport<>(TandemApplication.class,
                io.dropwizard.testing.ResourceHelpers.resourceFilePath("test-runtime.yml"),
                io.dropwizard.testing.ConfigOverride.config("database.url", db),
                io.dropwizard.testing.ConfigOverride.config("database.user", "postgres"),
                io.dropwizard.testing.ConfigOverride.config("member.id", "member-r1"),
                io.dropwizard.testing.ConfigOverride.config("member.dataDir", Machine.tempDir("r1").toString()),
                io.dropwizard.testing.ConfigOverride.config("logs.dir", Machine.tempDir("r1logs").toString()),
                io.dropwizard.testing.ConfigOverride.config("execution.workDir", Machine.tempDir("r1work").toString()));
        again.before();
        try {
            assertThat(status(db, mine)).isEqualTo("incomplete|member member-r1 restarted while the execution was running");
            assertThat(status(db, someoneElses)).as("another member's execution is not ours to judge").isEqualTo("running|null");
            try (Connection c = TestPostgres.connect(db);
                 ResultSet rs = c.createStatement().executeQuery("SELECT owner_member FROM tandem_local.schedules")) {
                assertThat(rs.next()).as("a scheduled job without a schedule row (as after replication) gets one at start").isTrue();
                assertThat(rs.getString(1)).isEqualTo("member-r1");
            }
        } finally {
            again.after();
        }
    }

    static String status(String db, UUID id) throws Exception {
        try (Connection c = TestPostgres.connect(db);
             PreparedStatement s = c.prepareStatement("SELECT status, reason FROM tandem.executions WHERE id = ?")) {
            s.setObject(1, id);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getString(1) + "|" + rs.getString(2);
            }
        }
    }
}
