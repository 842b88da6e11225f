package dev.tandem.kernel.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server run from the binaries bundled in the jar, with its data kept in a folder so
 * a restart keeps it. Logical decoding is on so the replicator can capture this database.
 *
 * <p>Given a password, the superuser {@code postgres} has it and every connection (replication
 * ones too) must present it (scram-sha-256): initdb writes it so from the start, and a data folder
 * made earlier with {@code trust} is converted at its next start. Without one, any local process
 * may connect as the superuser ({@code trust}), which only tests should accept.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

    private final EmbeddedPostgres postgres;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    public static EmbeddedPostgresServer start(Path dataDir, int port, boolean fsync) {
        return start(dataDir, port, fsync, "");
    }

    /** A server whose superuser {@code postgres} logs in with {@code password} (none: {@code trust}). */
    public static EmbeddedPostgresServer start(Path dataDir, int port, boolean fsync, String password) {
        boolean withPassword = password != null && !password.isEmpty();
        Path passwordFile = null;
        // PostgreSQL's own output (initdb, the server's log) goes to a file beside the data folder
        // (initdb wants that folder empty): when the server does not start, it says why.
        Path log = logOf(dataDir);
        try {
            Files.createDirectories(dataDir);
            Files.write(log, new byte[0]); // this start's output only (initdb, then the server, append to it)
            removeStaleLock(dataDir);
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
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    // TCP only: no socket and socket lock in /tmp, which a killed server leaves behind
                    // with a process id that another program may hold by the next start.
                    .setServerConfig("unix_socket_directories", "");
            if (port > 0) {
                builder.setPort(port);
            }
            if (withPassword) {
                // Read by initdb when it creates the folder; initdb's own -A trust is overridden by
                // the options after it.
                passwordFile = Files.createTempFile(dataDir.getParent(), ".initdb-password", "",
                        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
                Files.writeString(passwordFile, password + "\n");
                builder.setLocaleConfig("pwfile", passwordFile.toString())
                        .setLocaleConfig("auth-host", "scram-sha-256")
                        .setLocaleConfig("auth-local", "scram-sha-256")
                        .setConnectConfig("password", password);
            }
            EmbeddedPostgres pg = builder.start();
            if (withPassword) {
                requirePassword(pg, dataDir, password);
            }
            LOG.info("Embedded PostgreSQL listening on 127.0.0.1:{} with data in {} ({})", pg.getPort(), dataDir,
                    withPassword ? "password required" : "no password: any local process may connect as its superuser");
            return new EmbeddedPostgresServer(pg);
        } catch (IOException | SQLException | RuntimeException e) {
            throw new UncheckedIOException("cannot start embedded PostgreSQL in " + dataDir + ": " + e.getMessage()
                    + "; the end of its log " + log + ":\n" + tail(log), e instanceof IOException io ? io : new IOException(e.getMessage(), e));
        } finally {
            if (passwordFile != null) {
                try {
                    Files.deleteIfExists(passwordFile);
                } catch (IOException ignored) {
                    // owner-only, and gone at the next start at the latest
                }
            }
        }
    }

    /**
     * In a folder made before passwords were required, gives the superuser the password and replaces
     * {@code trust} in pg_hba.conf (a folder made with a password keeps the one it was made with;
     * change it with ALTER ROLE, then in the configuration).
     */
    private static void requirePassword(EmbeddedPostgres pg, Path dataDir, String password) throws IOException, SQLException {
        try (java.sql.Connection c = pg.getPostgresDatabase().getConnection(); java.sql.Statement s = c.createStatement()) {
            Path hba = dataDir.resolve("pg_hba.conf");
            java.util.List<String> lines = Files.readAllLines(hba);
            java.util.List<String> required = lines.stream()
                    .map(line -> line.startsWith("#") ? line : line.replaceAll("\\btrust\\s*$", "scram-sha-256")).toList();
            if (!required.equals(lines)) {
                s.execute("SET password_encryption = 'scram-sha-256'");
                s.execute("ALTER ROLE postgres PASSWORD '" + password.replace("'", "''") + "'");
                Files.write(hba, required);
                s.execute("SELECT pg_reload_conf()");
                LOG.warn("Embedded PostgreSQL in {} accepted connections without a password; it now requires one", dataDir);
            }
        }
    }

    /**
     * After a server was killed (SIGKILL, a power cut) its {@code postmaster.pid} stays behind.
     * PostgreSQL refuses to start while the process id written there exists, and process ids are
     * reused (a thread of any process may hold it now): a lock whose process is not a PostgreSQL
     * server is stale, and removed. One held by a running server is left alone (it refuses, as it
     * must).
     */
    static void removeStaleLock(Path dataDir) throws IOException {
        Path lock = dataDir.resolve("postmaster.pid");
        if (!Files.exists(lock)) {
            return;
        }
        long pid;
        try (java.util.stream.Stream<String> lines = Files.lines(lock)) {
            pid = Long.parseLong(lines.findFirst().orElse("").trim());
        } catch (NumberFormatException | java.io.UncheckedIOException unreadable) {
            pid = -1;
        }
        boolean postgres = pid > 0 && ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .flatMap(p -> p.info().command()).map(command -> Path.of(command).getFileName().toString().startsWith("postgres"))
                .orElse(false);
        if (!postgres) {
            LOG.warn("Removing the stale lock {} (process {} is not a running PostgreSQL server: it was stopped without a clean shutdown)",
                    lock, pid);
            Files.delete(lock);
        }
    }

    /** Where PostgreSQL's own output goes for the data folder {@code dataDir}. */
    public static Path logOf(Path dataDir) {
        return dataDir.resolveSibling(dataDir.getFileName() + ".log");
    }

    /** The last lines of the log (its last 8 KB at most; bytes that are not UTF-8 are replaced). */
    private static String tail(Path log) {
        try (java.nio.channels.SeekableByteChannel in = Files.newByteChannel(log)) {
            long from = Math.max(0, in.size() - 8192);
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate((int) (in.size() - from));
            in.position(from);
            while (buffer.hasRemaining() && in.read(buffer) > 0) {
                // read to the end
            }
            String[] lines = new String(buffer.array(), 0, buffer.position(), java.nio.charset.StandardCharsets.UTF_8).split("\n");
            return String.join("\n", java.util.Arrays.asList(lines).subList(Math.max(0, lines.length - 20), lines.length));
        } catch (IOException e) {
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
