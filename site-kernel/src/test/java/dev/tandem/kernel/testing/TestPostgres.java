package dev.tandem.kernel.testing;

import dev.tandem.kernel.db.EmbeddedPostgresServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL per test JVM (embedded, logical decoding on), and a fresh database per
 * test class, so classes never see each other's rows.
 */
public final class TestPostgres {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static EmbeddedPostgresServer server;

    private TestPostgres() {}

    public static synchronized EmbeddedPostgresServer server() {
        if (server == null) {
            try {
                Path dir = Files.createTempDirectory("tandem-test-pg");
                server = EmbeddedPostgresServer.start(dir, 0, false);
                EmbeddedPostgresServer started = server;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        started.close();
                    } finally {
                        Machine.deleteQuietly(dir); // once the database stopped writing into it
                        Machine.deleteQuietly(EmbeddedPostgresServer.logOf(dir));
                    }
                }));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return server;
    }

    /** Creates an empty database and returns its JDBC URL (user postgres, no password). */
    public static String newDatabase(String hint) {
        String cleaned = hint.toLowerCase().replaceAll("[^a-z0-9]", "");
        String name = "t" + DATABASES.incrementAndGet() + "_" + cleaned.substring(0, Math.min(20, cleaned.length()));
        try (Connection c = DriverManager.getConnection(server().jdbcUrl("postgres"), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name, e);
        }
        return server().jdbcUrl(name);
    }

    /** A connection pool on {@code url} (user postgres) with the runtime's migrations applied. */
    public static com.zaxxer.hikari.HikariDataSource migratedPool(String url, int maxPoolSize) {
        com.zaxxer.hikari.HikariDataSource pool = new com.zaxxer.hikari.HikariDataSource();
        pool.setJdbcUrl(url);
        pool.setUsername("postgres");
        pool.setMaximumPoolSize(maxPoolSize);
        dev.tandem.kernel.db.Migrations.migrate(pool);
        return pool;
    }

    public static Connection connect(String url) throws SQLException {
        return DriverManager.getConnection(url, "postgres", "");
    }
}
