package dev.tandem.runtime.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server run from the binaries bundled in the jar, with its data kept in a folder so
 * a restart keeps it. Logical decoding is on so the replicator can capture this database.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

    private final EmbeddedPostgres postgres;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    public static EmbeddedPostgresServer start(Path dataDir, int port, boolean fsync) {
        // PostgreSQL's own output (initdb, the server's log) goes to a file beside the data folder
        // (initdb wants that folder empty): when the server does not start, it says why.
        Path log = logOf(dataDir);
        try {
            Files.createDirectories(dataDir);
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    // The first start runs initdb; on a busy 2-core machine (two sites starting at
                    // once, CI) that takes longer than the library's 10 s default.
                    .setPGStartupWait(java.time.Duration.ofSeconds(90))
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setServerConfig("fsync", fsync ? "on" : "off")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("full_page_writes", fsync ? "on" : "off")
                    .setServerConfig("wal_level", "logical")
                    .setServerConfig("max_wal_senders", "10")
                    .setServerConfig("max_replication_slots", "10")
                    // A replication slot whose peer is gone may not fill the disk (DESIGN.md "Positions").
                    .setServerConfig("max_slot_wal_keep_size", "2GB")
                    .setServerConfig("max_connections", "200")
                    .setServerConfig("listen_addresses", "127.0.0.1");
            if (port > 0) {
                builder.setPort(port);
            }
            EmbeddedPostgres pg = builder.start();
            LOG.info("Embedded PostgreSQL listening on 127.0.0.1:{} with data in {}", pg.getPort(), dataDir);
            return new EmbeddedPostgresServer(pg);
        } catch (IOException | IllegalStateException e) {
            throw new UncheckedIOException("cannot start embedded PostgreSQL in " + dataDir + ": " + e.getMessage()
                    + "; the end of its log " + log + ":\n" + tail(log), e instanceof IOException io ? io : new IOException(e.getMessage(), e));
        }
    }

    /** Where PostgreSQL's own output goes for the data folder {@code dataDir}. */
    public static Path logOf(Path dataDir) {
        return dataDir.resolveSibling(dataDir.getFileName() + ".log");
    }

    private static String tail(Path log) {
        try {
            java.util.List<String> lines = Files.readAllLines(log, java.nio.charset.StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    public int port() {
        return postgres.getPort();
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop embedded PostgreSQL: " + e.getMessage(), e);
        }
    }
}
