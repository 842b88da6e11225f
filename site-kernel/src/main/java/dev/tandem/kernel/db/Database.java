package dev.tandem.kernel.db;

import com.codahale.metrics.MetricRegistry;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dropwizard.lifecycle.Managed;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.postgres.PostgresPlugin;

/** The connection pool and the Jdbi handle factory over it; closed when the process stops. */
public final class Database implements Managed {
    private final HikariDataSource dataSource;
    private final Jdbi jdbi;
    private final EmbeddedPostgresServer embedded;

    private Database(HikariDataSource dataSource, EmbeddedPostgresServer embedded) {
        this.dataSource = dataSource;
        this.embedded = embedded;
        this.jdbi = Jdbi.create(dataSource).installPlugin(new PostgresPlugin());
    }

    /** Starts the embedded server when asked to, then opens the pool. */
    public static Database open(DatabaseSettings settings, String poolName, MetricRegistry metrics) {
        EmbeddedPostgresServer embedded = null;
        String url = settings.url();
        String user = settings.user();
        String password = settings.password();
        if (settings.embedded()) {
            // database.password, when set, is the embedded superuser's password (required of every connection).
            embedded = EmbeddedPostgresServer.start(settings.embeddedDataDir(), settings.embeddedPort(), settings.embeddedFsync(),
                    settings.password());
            url = embedded.jdbcUrl("postgres");
            user = "postgres";
        }
        HikariConfig config = new HikariConfig();
        config.setPoolName(poolName);
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(settings.maxPoolSize());
        // Set once per connection: the site gate relies on it (a fresh snapshot per statement), and
        // asking Jdbi for it per transaction costs pgjdbc a SHOW round trip each time.
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        config.setConnectionTimeout(settings.connectionTimeout().toMillis());
        config.setValidationTimeout(Math.min(settings.connectionTimeout().toMillis(), 3000));
        config.setInitializationFailTimeout(settings.connectionTimeout().toMillis());
        config.addDataSourceProperty("ApplicationName", poolName);
        config.addDataSourceProperty("socketTimeout", "60");
        config.addDataSourceProperty("connectTimeout", String.valueOf(Math.max(1, settings.connectionTimeout().toSeconds())));
        if (metrics != null) {
            config.setMetricRegistry(metrics);
        }
        try {
            return new Database(new HikariDataSource(config), embedded);
        } catch (RuntimeException e) {
            if (embedded != null) {
                embedded.close();
            }
            throw new IllegalStateException("cannot connect to the database at " + url + " as " + user + ": " + e.getMessage(), e);
        }
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    public HikariDataSource dataSource() {
        return dataSource;
    }

    @Override
    public void stop() {
        dataSource.close();
        if (embedded != null) {
            embedded.close();
        }
    }
}
