package dev.tandem.runtime.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.runtime.testing.RuntimeFixture;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;

/** The demo's embedded default: fsync on, logical decoding on, and data kept across a restart. */
class EmbeddedPostgresServerTest {

    @Test
    void dataSurvivesARestartWithFsyncAndLogicalDecodingOn() throws Exception {
        Path dir = RuntimeFixture.tempDir("embedded-pg");
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

    @Test
    void aServerThatCannotStartSaysWhyInPostgresqlsOwnWords() throws Exception {
        Path dir = RuntimeFixture.tempDir("embedded-pg-bad").resolve("postgres");
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
