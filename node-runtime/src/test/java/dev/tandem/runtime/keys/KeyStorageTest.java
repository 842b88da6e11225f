package dev.tandem.runtime.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.kernel.site.SiteRole;
import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.RuntimeFixture;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.Base64;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Key storage over HTTP and on disk: encrypted at rest, secrets never returned, rotation re-encrypts. */
@ExtendWith(DropwizardExtensionsSupport.class)
class KeyStorageTest {
    static final String MASTER = Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8));
    static final String DB = TestPostgres.newDatabase("keys");
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime(DB, "member-keys",
            ConfigOverride.config("keys.masterKeys[0].id", "k1"), ConfigOverride.config("keys.masterKeys[0].key", MASTER));
    static final String PASSWORD = "pa55word-that-must-not-leak";
    static final String PRIVATE = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
    static final String PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx ops@example.com";

    Api api() {
        return RuntimeFixture.api(APP);
    }

    @Test
    void passwordsAndPrivateKeysAreStoredButNeverReturned() throws Exception {
        Api.Reply created = api().postBytes("/api/v1/storage/keys/project/web/db-password", "application/x-rundeck-data-password", PASSWORD.getBytes());
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(created.json().path("type").asText()).isEqualTo("password");
        assertThat(created.json().path("size").asInt()).isEqualTo(PASSWORD.length());
        assertThat(created.body()).doesNotContain(PASSWORD);
        assertThat(api().postBytes("/api/v1/storage/keys/project/web/id_ed25519", "application/octet-stream", PRIVATE.getBytes()).status()).isEqualTo(201);
        assertThat(api().postBytes("/api/v1/storage/keys/project/web/id_ed25519.pub", "application/pgp-keys", PUBLIC.getBytes()).status()).isEqualTo(201);

        Api.Reply meta = api().get("/api/v1/storage/keys/project/web/db-password");
        assertThat(meta.json().path("path").asText()).isEqualTo("keys/project/web/db-password");
        assertThat(meta.body()).doesNotContain(PASSWORD);
        Api.Reply listing = api().get("/api/v1/storage/keys/project/web");
        assertThat(listing.json().path("resources").findValuesAsText("path"))
                .containsExactly("keys/project/web/db-password", "keys/project/web/id_ed25519", "keys/project/web/id_ed25519.pub");
        assertThat(listing.body()).doesNotContain(PASSWORD).doesNotContain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ");

        Api.Reply secret = api().send("GET", "/api/v1/storage/keys/project/web/db-password", "application/pgp-keys");
        assertThat(secret.status()).isEqualTo(403);
        assertThat(secret.body()).doesNotContain(PASSWORD);
        assertThat(api().send("GET", "/api/v1/storage/keys/project/web/id_ed25519", "application/pgp-keys").status()).isEqualTo(403);
        Api.Reply pub = api().send("GET", "/api/v1/storage/keys/project/web/id_ed25519.pub", "application/pgp-keys");
        assertThat(pub.status()).isEqualTo(200);
        assertThat(pub.body()).isEqualTo(PUBLIC);

        try (Connection c = TestPostgres.connect(DB); ResultSet rs = c.createStatement().executeQuery("SELECT ciphertext, master_key_id FROM tandem.keys")) {
            while (rs.next()) {
                String stored = new String(rs.getBytes(1), StandardCharsets.ISO_8859_1);
                assertThat(stored).doesNotContain(PASSWORD).doesNotContain("OPENSSH").doesNotContain("ssh-ed25519");
                assertThat(rs.getString(2)).isEqualTo("k1");
            }
        }
    }

    @Test
    void keysAreReplacedAndDeletedAndBadRequestsAreExplained() {
        String path = "/api/v1/storage/keys/ops/token";
        assertThat(api().postBytes(path, "application/x-rundeck-data-password", "one".getBytes()).status()).isEqualTo(201);
        assertThat(api().postBytes(path, "application/x-rundeck-data-password", "two".getBytes()).status()).isEqualTo(409);
        assertThat(api().send("PUT", path, "application/x-rundeck-data-password", "three".getBytes()).json().path("size").asInt()).isEqualTo(5);
        assertThat(api().send("PUT", "/api/v1/storage/keys/ops/missing", "application/x-rundeck-data-password", "x".getBytes()).status()).isEqualTo(404);
        Api.Reply badType = api().postBytes("/api/v1/storage/keys/ops/other", "text/plain", "x".getBytes());
        assertThat(badType.status()).isEqualTo(415);
        assertThat(badType.json().path("where").asText()).isEqualTo("Content-Type");
        assertThat(api().postBytes("/api/v1/storage/keys/ops/../../etc", "application/x-rundeck-data-password", "x".getBytes()).status()).isIn(400, 404);
        assertThat(api().postBytes("/api/v1/storage/keys/ops/empty", "application/x-rundeck-data-password", new byte[0]).status()).isEqualTo(400);
        assertThat(api().delete(path).status()).isEqualTo(204);
        assertThat(api().get(path).status()).isEqualTo(404);
        assertThat(api().delete(path).status()).isEqualTo(404);
    }

    @Test
    void rotationReEncryptsEveryKeyWithTheNewMasterKeyAndTheOldOneCanThenGo() throws Exception {
        String db = TestPostgres.newDatabase("rotation");
        try (HikariDataSource ds = TestPostgres.migratedPool(db, 10)) {
            SiteGate gate = new SiteGate(Jdbi.create(ds));
            gate.initialise("a", SiteRole.ACTIVE, "http://a");
            String k2 = Base64.getEncoder().encodeToString("fedcba9876543210fedcba9876543210".getBytes(StandardCharsets.UTF_8));
            KeyStore before = new KeyStore(gate, new MasterKeys(List.of(new MasterKeys.Entry("k1", MASTER))));
            before.create("keys/a/one", KeyType.PASSWORD, "first".getBytes(), "test");
            before.create("keys/a/two", KeyType.PRIVATE, "second".getBytes(), "test");

            KeyStore onlyNew = new KeyStore(gate, new MasterKeys(List.of(new MasterKeys.Entry("k2", k2))));
            assertThatThrownBy(() -> onlyNew.secret("keys/a/one")).hasMessageContaining("master key 'k1', which is not configured");

            KeyStore during = new KeyStore(gate, new MasterKeys(List.of(new MasterKeys.Entry("k2", k2), new MasterKeys.Entry("k1", MASTER))));
            assertThat(during.rotate()).isEqualTo(2);
            assertThat(during.rotate()).as("rotation is idempotent").isZero();
            assertThat(onlyNew.secret("keys/a/one").orElseThrow().text()).isEqualTo("first");
            assertThat(onlyNew.secret("keys/a/two").orElseThrow().text()).isEqualTo("second");
        }
    }

    @Test
    void aCiphertextMovedToAnotherPathDoesNotDecrypt() throws Exception {
        api().postBytes("/api/v1/storage/keys/moved/original", "application/x-rundeck-data-password", "value".getBytes());
        api().postBytes("/api/v1/storage/keys/moved/target", "application/x-rundeck-data-password", "other".getBytes());
        try (Connection c = TestPostgres.connect(DB)) {
            c.createStatement().executeUpdate("""
                    UPDATE tandem.keys t SET ciphertext = o.ciphertext, nonce = o.nonce
                    FROM tandem.keys o WHERE o.path = 'keys/moved/original' AND t.path = 'keys/moved/target'""");
        }
        try (HikariDataSource ds = new HikariDataSource()) {
            ds.setJdbcUrl(DB);
            ds.setUsername("postgres");
            KeyStore store = new KeyStore(new SiteGate(Jdbi.create(ds)), new MasterKeys(List.of(new MasterKeys.Entry("k1", MASTER))));
            assertThatThrownBy(() -> store.secret("keys/moved/target")).hasMessageContaining("failed its integrity check");
        }
    }

    @Test
    void withoutAMasterKeyKeyStorageSaysItIsDisabled() {
        assertThatThrownBy(() -> new MasterKeys(List.of()).seal("x".getBytes(), "keys/x", KeyType.PASSWORD))
                .isInstanceOf(KeyStorageUnavailableException.class)
                .hasMessageContaining("keys.masterKeys");
        assertThatThrownBy(() -> new MasterKeys(List.of(new MasterKeys.Entry("short", "c2hvcnQ="))))
                .hasMessageContaining("must be 32 bytes");
    }
}
