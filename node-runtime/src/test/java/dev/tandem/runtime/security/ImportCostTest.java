package dev.tandem.runtime.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.db.EmbeddedPostgresServer;
import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.Runs;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What one import costs does not depend on how many jobs other projects hold: with 5000 jobs in
 * another project, importing a job (with a job reference, so the cycle check walks) reads a
 * handful of rows of tandem.jobs. Measured by PostgreSQL itself (pg_stat_statements: rows and
 * buffers of every statement on tandem.jobs), which the test first shows does see a full read.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class ImportCostTest {
    static final int OTHER_JOBS = 5000;
    static final EmbeddedPostgresServer SERVER = serverCountingStatements();
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime(SERVER.jdbcUrl("postgres"), "import-cost");
    static Api api;

    static EmbeddedPostgresServer serverCountingStatements() {
        Path dir = Machine.tempDir("import-cost-pg");
        try (EmbeddedPostgresServer first = EmbeddedPostgresServer.start(dir, 0, false)) {
            sql(first, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
        }
        EmbeddedPostgresServer server = EmbeddedPostgresServer.start(dir, 0, false);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        sql(server, "CREATE EXTENSION pg_stat_statements");
        return server;
    }

    @BeforeAll
    static void anotherProjectWithManyJobs() {
        api = RuntimeFixture.api(APP);
        assertThat(api.post("/api/v1/projects", Map.of("name", "crowded")).status()).isEqualTo(201);
        assertThat(api.post("/api/v1/projects", Map.of("name", "small")).status()).isEqualTo(201);
        for (int batch = 0; batch < OTHER_JOBS; batch += 500) {
            StringBuilder many = new StringBuilder();
            for (int i = batch; i < batch + 500; i++) {
                many.append("- {name: job-").append(i).append(", group: g").append(i % 50).append(", sequence: {commands: [{exec: echo ")
                        .append(i).append("}]}}\n");
            }
            Api.Reply reply = api.postYaml("/api/v1/projects/crowded/jobs/import", many.toString());
            assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        }
        Runs.importJob(api, "small", "- name: target\n  sequence: {commands: [{exec: echo target}]}\n");
    }

    @Test
    void importingIntoASmallProjectReadsAHandfulOfRowsHoweverManyJobsOthersHold() {
        reset();
        assertThat(api.get("/api/v1/projects/crowded/jobs").status()).isEqualTo(200);
        assertThat(readsOfJobs()[0]).as("rows of tandem.jobs read by listing the crowded project").isGreaterThanOrEqualTo(OTHER_JOBS);

        reset();
        Runs.importJob(api, "small", """
                - name: caller
                  sequence:
                    commands:
                      - jobref: {name: target}
                      - jobref: {name: target, project: small}
                """);
        long[] reads = readsOfJobs();
        assertThat(reads[0]).as("rows of tandem.jobs read by the import").isLessThan(50);
        assertThat(reads[1]).as("buffers of tandem.jobs touched by the import").isLessThan(300);
    }

    private static void reset() {
        sql(SERVER, "SELECT pg_stat_statements_reset()");
    }

    /** Rows returned and buffers touched by every statement on tandem.jobs since the last reset. */
    private static long[] readsOfJobs() {
        try (Connection c = DriverManager.getConnection(SERVER.jdbcUrl("postgres"), "postgres", "");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT coalesce(sum(rows), 0), coalesce(sum(shared_blks_hit + shared_blks_read), 0) "
                     + "FROM pg_stat_statements WHERE query ILIKE '%tandem.jobs%' AND query NOT ILIKE '%pg_stat_statements%'")) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2)};
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sql(EmbeddedPostgresServer server, String statement) {
        try (Connection c = DriverManager.getConnection(server.jdbcUrl("postgres"), "postgres", ""); Statement s = c.createStatement()) {
            s.execute(statement);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
