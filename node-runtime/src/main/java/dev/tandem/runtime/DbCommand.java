package dev.tandem.runtime;

import dev.tandem.kernel.db.Database;
import dev.tandem.kernel.db.DatabaseSettings;
import dev.tandem.kernel.db.Migrations;
import io.dropwizard.core.cli.ConfiguredCommand;
import io.dropwizard.core.setup.Bootstrap;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.output.MigrateResult;

/** {@code db migrate} applies pending migrations; {@code db status} lists them. */
public final class DbCommand extends ConfiguredCommand<TandemConfiguration> {

    public DbCommand() {
        super("db", "Database schema migrations: 'db migrate' or 'db status'");
    }

    @Override
    public void configure(Subparser subparser) {
        subparser.addArgument("action").choices("migrate", "status").help("migrate: apply pending migrations; status: list them");
        super.configure(subparser);
    }

    @Override
    protected void run(Bootstrap<TandemConfiguration> bootstrap, Namespace namespace, TandemConfiguration configuration) {
        DatabaseSettings settings = DatabaseSettingsFactory.from(configuration.database);
        Database database = Database.open(settings, "tandem-migrate", null);
        try {
            Flyway flyway = Migrations.flyway(database.dataSource());
            if ("migrate".equals(namespace.getString("action"))) {
                MigrateResult result = flyway.migrate();
                System.out.printf("applied %d migration(s); schema is at version %s%n", result.migrationsExecuted,
                        result.targetSchemaVersion == null ? flyway.info().current().getVersion() : result.targetSchemaVersion);
            } else {
                for (MigrationInfo info : flyway.info().all()) {
                    if (info.getVersion() != null) {
                        System.out.printf("%-8s %-40s %s%n", info.getVersion(), info.getDescription(), info.getState().getDisplayName());
                    }
                }
            }
        } finally {
            database.stop();
        }
    }
}
