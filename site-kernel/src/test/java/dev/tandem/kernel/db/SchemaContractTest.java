package dev.tandem.kernel.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The contract with the replicator (DESIGN.md): replicated tables in "tandem" keyed by uuid with
 * no sequence anywhere; site-local state and migration bookkeeping in "tandem_local".
 */
class SchemaContractTest {
    static String url;

    @BeforeAll
    static void migrate() throws SQLException {
        url = TestPostgres.newDatabase("schema");
        try (var ds = new com.zaxxer.hikari.HikariDataSource()) {
            ds.setJdbcUrl(url);
            ds.setUsername("postgres");
            Migrations.migrate(ds);
            assertThat(Migrations.migrate(ds).migrationsExecuted).as("migrating twice is a no-op").isZero();
        }
    }

    static List<String> column(String sql) throws SQLException {
        List<String> values = new ArrayList<>();
        try (Connection c = TestPostgres.connect(url); ResultSet rs = c.createStatement().executeQuery(sql)) {
            while (rs.next()) {
                values.add(rs.getString(1));
            }
        }
        return values;
    }

    @Test
    void everyReplicatedTableHasAUuidPrimaryKey() throws SQLException {
        List<String> tables = column("SELECT table_name FROM information_schema.tables WHERE table_schema = 'tandem'");
        assertThat(tables).contains("projects", "jobs", "executions", "users", "api_tokens");
        List<String> keys = column("""
                SELECT tc.table_name || '.' || kcu.column_name || ':' || c.data_type
                FROM information_schema.table_constraints tc
                JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
                JOIN information_schema.columns c ON c.table_schema = tc.table_schema AND c.table_name = tc.table_name AND c.column_name = kcu.column_name
                WHERE tc.table_schema = 'tandem' AND tc.constraint_type = 'PRIMARY KEY'""");
        assertThat(keys).hasSize(tables.size()).allSatisfy(k -> assertThat(k).endsWith(".id:uuid"));
    }

    @Test
    void theReplicatedSchemaUsesNoSequence() throws SQLException {
        assertThat(column("SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = 'tandem'")).isEmpty();
        assertThat(column("SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'tandem' AND (column_default LIKE 'nextval%' OR is_identity = 'YES')")).isEmpty();
    }

    @Test
    void siteStateAndMigrationBookkeepingAreSiteLocal() throws SQLException {
        assertThat(column("SELECT table_name FROM information_schema.tables WHERE table_schema = 'tandem_local'"))
                .contains("site_state", "schema_history");
        assertThat(column("SELECT table_name FROM information_schema.tables WHERE table_schema = 'tandem'"))
                .doesNotContain("site_state", "schema_history");
    }
}
