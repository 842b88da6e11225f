package dev.tandem.runtime.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.kernel.db.EmbeddedPostgresServer;
import dev.tandem.kernel.testing.Machine;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;

/** The demo's embedded default: fsync on, logical decoding on, and data kept across a restart. */
class EmbeddedPostgresServerTest {

    @Test
    void dataSurvivesARestartWithFsyncAndLogicalDecodingOn() throws Exception {
        Path dir = Machine.tempDir("embedded-pg");
        try (EmbeddedPostgresServer first = EmbeddedPostgresServer.start(dir, 0, true);
             Connection c = DriverManager.getConnection(first.jdbcUrl("postgres"), "postgres", "")) {
            assertThat(setting(c, "fsync")).isEqualTo("on");
            assertThat(setting(c, "synchronous_commit")).isEqualTo("on");
            assertThat(setting(c, "wal_level")).isEqualTo("logical");
            c.createStatement().execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
        }
        try (EmbeddedPostgresServer second = EmbeddedPostgresServer.start(dir, 0, true);
             Connection c = DriverManager.getConnection(second.jdbcUrl("postgres"), "postgres", "");
             ResultSet rs = c.createStatement().executeQuery("SELECT v FROM kept")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("still here");
        }
    }

    /** With a password (the demo's), no connection gets in without it: neither SQL nor replication. */
    @Test
    void withAPasswordEveryConnectionMustPresentIt() throws Exception {
        Path dir = Machine.tempDir("embedded-pg-password");
        try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(dir, 0, false, "made-with-this-password")) {
            assertRequiresOnly(server, "made-with-this-password");
            try (Connection c = DriverManager.getConnection(server.jdbcUrl("postgres"), "postgres", "made-with-this-password")) {
                c.createStatement().execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
            }
        }
        try (EmbeddedPostgresServer again = EmbeddedPostgresServer.start(dir, 0, false, "made-with-this-password")) {
            assertRequiresOnly(again, "made-with-this-password");
            try (Connection c = DriverManager.getConnection(again.jdbcUrl("postgres"), "postgres", "made-with-this-password");
                 ResultSet rs = c.createStatement().executeQuery("SELECT v FROM kept")) {
                assertThat(rs.next()).isTrue();
            }
        }
        assertThat(java.nio.file.Files.list(dir.getParent()).map(p -> p.getFileName().toString()))
                .noneMatch(name -> name.startsWith(".initdb-password"));
    }

    /** A folder made when no password was asked for requires one from the first start that has one. */
    @Test
    void aFolderMadeWithoutAPasswordRequiresOneOnceConfigured() throws Exception {
        Path dir = Machine.tempDir("embedded-pg-trust");
        try (EmbeddedPostgresServer open = EmbeddedPostgresServer.start(dir, 0, false);
             Connection c = DriverManager.getConnection(open.jdbcUrl("postgres"), "postgres", "")) {
            c.createStatement().execute("CREATE TABLE kept (v text)");
        }
        try (EmbeddedPostgresServer closed = EmbeddedPostgresServer.start(dir, 0, false, "given-later")) {
            assertRequiresOnly(closed, "given-later");
        }
    }

    private static void assertRequiresOnly(EmbeddedPostgresServer server, String password) throws Exception {
        for (String wrong : new String[] {"", "not-" + password}) {
            java.util.Properties sql = new java.util.Properties();
            sql.setProperty("user", "postgres");
            sql.setProperty("password", wrong);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> DriverManager.getConnection(server.jdbcUrl("postgres"), sql).close())
                    .as("password '%s'", wrong).isInstanceOf(java.sql.SQLException.class)
                    .hasMessageMatching("(?s).*(password authentication failed|no password was provided|requested SCRAM-based authentication).*");
            java.util.Properties replication = new java.util.Properties(sql);
            replication.putAll(sql);
            replication.setProperty("replication", "database");
            replication.setProperty("preferQueryMode", "simple");
            replication.setProperty("assumeMinServerVersion", "10");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> DriverManager.getConnection(server.jdbcUrl("postgres"), replication).close())
                    .as("replication, password '%s'", wrong).isInstanceOf(java.sql.SQLException.class)
                    .hasMessageMatching("(?s).*(password authentication failed|no password was provided|requested SCRAM-based authentication).*");
        }
        try (Connection c = DriverManager.getConnection(server.jdbcUrl("postgres"), "postgres", password)) {
            assertThat(c.isValid(5)).isTrue();
        }
    }

    /**
     * A server killed with SIGKILL leaves its postmaster.pid behind; process ids are reused, so
     * the id in it may belong to another program by the next start (here: this test's JVM). The
     * next start removes that stale lock instead of refusing, and the data is there.
     */
    @Test
    void aKilledServersLockWhoseProcessIdNowBelongsToAnotherProgramDoesNotStopTheNextStart() throws Exception {
        Path dir = Machine.tempDir("embedded-pg-killed");
        EmbeddedPostgresServer first = EmbeddedPostgresServer.start(dir, 0, true);
        try (Connection c = DriverManager.getConnection(first.jdbcUrl("postgres"), "postgres", "")) {
            c.createStatement().execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survived a kill')");
        }
        long pid = Long.parseLong(java.nio.file.Files.readAllLines(dir.resolve("postmaster.pid")).get(0).trim());
        ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
        java.util.List<ProcessHandle> all = new java.util.ArrayList<>(postmaster.descendants().toList());
        all.add(postmaster);
        all.forEach(ProcessHandle::destroyForcibly);
        org.awaitility.Awaitility.await().atMost(Machine.deadline(java.time.Duration.ofSeconds(20)))
                .until(() -> all.stream().noneMatch(ProcessHandle::isAlive));
        try {
            first.close();
        } catch (RuntimeException alreadyGone) {
            // pg_ctl finds no server to stop
        }
        java.util.List<String> lock = new java.util.ArrayList<>(java.nio.file.Files.readAllLines(dir.resolve("postmaster.pid")));
        lock.set(0, String.valueOf(ProcessHandle.current().pid())); // the id now names a live process that is not PostgreSQL
        java.nio.file.Files.write(dir.resolve("postmaster.pid"), lock);

        try (EmbeddedPostgresServer second = EmbeddedPostgresServer.start(dir, 0, true);
             Connection c = DriverManager.getConnection(second.jdbcUrl("postgres"), "postgres", "");
             ResultSet rs = c.createStatement().executeQuery("SELECT v FROM kept")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("survived a kill");
        }
    }

    @Test
    void aServerThatCannotStartSaysWhyInPostgresqlsOwnWords() throws Exception {
        Path dir = Machine.tempDir("embedded-pg-bad").resolve("postgres");
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Files.writeString(dir.resolve("notes.txt"), "not a database");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> EmbeddedPostgresServer.start(dir, 0, true))
                .isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessageContaining("cannot start embedded PostgreSQL in " + dir)
                .hasMessageContaining(EmbeddedPostgresServer.logOf(dir).toString())
                .hasMessageContaining("exists but is not empty");
    }

    static String setting(Connection c, String name) throws Exception {
        try (ResultSet rs = c.createStatement().executeQuery("SHOW " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
