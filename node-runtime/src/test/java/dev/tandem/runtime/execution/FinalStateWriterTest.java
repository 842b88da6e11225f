package dev.tandem.runtime.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.kernel.db.Ids;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.kernel.site.SiteNotActiveException;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.db.Json;
import dev.tandem.runtime.project.Project;
import dev.tandem.runtime.project.ProjectRepository;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.postgres.PostgresPlugin;
import org.junit.jupiter.api.Test;

/**
 * Final states of executions that end together are written in one transaction; each execution
 * still learns whether its own record changed, and a fenced site records none of them.
 */
class FinalStateWriterTest {

    @Test
    void executionsEndingTogetherEachGetTheirOwnStateAndOnlyTheFirstFinishCounts() throws Exception {
        String url = TestPostgres.newDatabase("finalstates");
        try (HikariDataSource ds = TestPostgres.migratedPool(url, 8)) {
            SiteGate gate = new SiteGate(Jdbi.create(ds).installPlugin(new PostgresPlugin()));
            gate.initialise("a", SiteRole.ACTIVE, "http://a");
            Json json = new Json(new ObjectMapper());
            Project project = new ProjectRepository(gate, json).create("p", "", Map.of());
            ExecutionRepository repository = new ExecutionRepository(gate, json);
            UUID job = Ids.next();
            try (Connection c = ds.getConnection(); java.sql.PreparedStatement s = c.prepareStatement("""
                    INSERT INTO tandem.jobs (id, project_id, uuid, name, definition, created_at, updated_at, modified_by_member)
                    VALUES (?, ?, ?, 'job', '{}', now(), now(), 'm1')""")) {
                s.setObject(1, job);
                s.setObject(2, project.id());
                s.setString(3, job.toString());
                s.executeUpdate();
            }
            List<UUID> ids = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                ids.add(repository.insertRunning(new ExecutionRepository.NewExecution(Ids.next(), project.id(), job, "job", false,
                        Map.of(), "tester", "m1", 1, null, ExecutionStatus.RUNNING, null)).id());
            }
            FinalStateWriter writer = new FinalStateWriter(repository);
            ExecutorService callers = Executors.newFixedThreadPool(32);
            try {
                List<CompletableFuture<Boolean>> first = new ArrayList<>();
                List<CompletableFuture<Boolean>> second = new ArrayList<>();
                for (int i = 0; i < ids.size(); i++) {
                    UUID id = ids.get(i);
                    ExecutionStatus status = i % 2 == 0 ? ExecutionStatus.SUCCEEDED : ExecutionStatus.FAILED;
                    first.add(CompletableFuture.supplyAsync(() -> writer.record(id, status, "reason " + id), callers));
                }
                for (CompletableFuture<Boolean> f : first) {
                    assertThat(f.get()).as("the first final state of a running execution changes its record").isTrue();
                }
                for (UUID id : ids) {
                    second.add(CompletableFuture.supplyAsync(() -> writer.record(id, ExecutionStatus.ABORTED, "late"), callers));
                }
                for (CompletableFuture<Boolean> f : second) {
                    assertThat(f.get()).as("a second finish of an ended execution changes nothing").isFalse();
                }
                try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT id, status, reason, ended_at IS NOT NULL FROM tandem.executions")) {
                    int rows = 0;
                    while (rs.next()) {
                        rows++;
                        int i = ids.indexOf(rs.getObject(1, UUID.class));
                        assertThat(rs.getString(2)).isEqualTo(i % 2 == 0 ? "succeeded" : "failed");
                        assertThat(rs.getString(3)).isEqualTo("reason " + ids.get(i));
                        assertThat(rs.getBoolean(4)).isTrue();
                    }
                    assertThat(rows).isEqualTo(ids.size());
                }

                UUID last = repository.insertRunning(new ExecutionRepository.NewExecution(Ids.next(), project.id(), job, "job", false,
                        Map.of(), "tester", "m1", 1, null, ExecutionStatus.RUNNING, null)).id();
                try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                    s.executeUpdate("UPDATE tandem_local.site_state SET role = 'fenced', epoch = epoch + 1");
                }
                assertThatThrownBy(() -> writer.record(last, ExecutionStatus.SUCCEEDED, null))
                        .as("a fenced site records no final state; the caller is told (and retries later)")
                        .isInstanceOf(SiteNotActiveException.class);
            } finally {
                callers.shutdownNow();
                writer.close();
            }
        }
    }
}
