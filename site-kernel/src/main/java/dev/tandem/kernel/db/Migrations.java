package dev.tandem.kernel.db;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Versioned schema migrations. The bookkeeping table lives in {@code tandem_local}: migrations are
 * not replicated, every site runs them itself (passive sites first, see the upgrade runbook).
 */
public final class Migrations {
    private Migrations() {}

    public static Flyway flyway(DataSource dataSource) {
        return Flyway.configure()
                .dataSource(dataSource)
                .schemas("tandem_local", "tandem")
                .defaultSchema("tandem_local")
                .table("schema_history")
                .locations("classpath:db/migration")
                .cleanDisabled(true)
                .load();
    }

    public static MigrateResult migrate(DataSource dataSource) {
        return flyway(dataSource).migrate();
    }
}
