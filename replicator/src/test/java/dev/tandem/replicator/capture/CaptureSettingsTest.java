package dev.tandem.replicator.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The TLS parameters of {@code database.url} (docs/SECURITY.md: {@code sslmode=verify-full})
 * reach every connection the capture makes: Debezium's replication connection, its offset store
 * and the seed export, so no connection silently falls back to plaintext or to an unverified server.
 */
class CaptureSettingsTest {
    static CaptureSettings of(String url) {
        return CaptureSettings.of("a", url, "tandem", "pw", "tandem_capture", "tandem_pub", Duration.ofMillis(10), Duration.ofSeconds(1), 1000);
    }

    @Test
    void verifyFullAndTheCaFileReachTheReplicationConnectionAndTheOffsetStore() {
        String url = "jdbc:postgresql://db.example.net:5433/tandem?sslmode=verify-full&sslrootcert=%2Fetc%2Ftandem%2Ftls%2Fpg%20ca.pem"
                + "&ApplicationName=tandem";
        CaptureSettings settings = of(url);
        Properties properties = new CaptureEngine(settings, 1, null).properties();
        assertThat(properties).containsEntry("database.hostname", "db.example.net").containsEntry("database.port", "5433")
                .containsEntry("database.dbname", "tandem")
                .containsEntry("database.sslmode", "verify-full")
                .containsEntry("database.sslrootcert", "/etc/tandem/tls/pg ca.pem")
                .doesNotContainKey("database.ApplicationName");
        assertThat(properties.getProperty(SiteDatabaseOffsetStore.URL)).isEqualTo(url);
        assertThat(settings.jdbcUrl()).isEqualTo(url);
    }

    @Test
    void aUrlWithoutParametersCapturesWithTheDriversDefaults() {
        Properties properties = new CaptureEngine(of("jdbc:postgresql://127.0.0.1/tandem"), 1, null).properties();
        assertThat(properties).containsEntry("database.port", "5432").doesNotContainKeys("database.sslmode", "database.sslrootcert");
    }

    @Test
    void aUrlWithoutADatabaseIsRefusedNamingTheSetting() {
        assertThatThrownBy(() -> of("jdbc:postgresql://127.0.0.1:5432/")).hasMessageContaining("database.url must name a host and a database");
    }
}
