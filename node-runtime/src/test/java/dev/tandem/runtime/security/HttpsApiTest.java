package dev.tandem.runtime.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.runtime.TandemConfiguration;
import dev.tandem.runtime.testing.Api;
import dev.tandem.runtime.testing.RuntimeFixture;
import dev.tandem.runtime.testing.TestCertificates;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.nio.file.Path;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The API on Dropwizard's HTTPS connector (docs/SECURITY.md): a client that trusts the CA which
 * signed the runtime's certificate reaches it by the name in the certificate; a client that does
 * not trust that CA, or reaches the runtime by a name the certificate does not hold, is refused
 * before any request (and so before any token) is sent.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class HttpsApiTest {
    static final Path DIR = Machine.tempDir("https-api");
    static final TestCertificates CA = TestCertificates.authority(DIR, "tandem-ca");
    static final Path KEY_STORE = CA.serverKeyStore("runtime", "localhost");
    static final DropwizardAppExtension<TandemConfiguration> APP = RuntimeFixture.runtime("https",
            ConfigOverride.config("server.applicationConnectors[0].type", "https"),
            ConfigOverride.config("server.applicationConnectors[0].keyStorePath", KEY_STORE.toString()),
            ConfigOverride.config("server.applicationConnectors[0].keyStorePassword", TestCertificates.PASSWORD),
            ConfigOverride.config("server.applicationConnectors[0].keyStoreType", "PKCS12"));

    @Test
    void aClientTrustingTheCaUsesTheApiByTheCertificatesName() {
        Api api = new Api("https://localhost:" + APP.getLocalPort(), RuntimeFixture.ADMIN_TOKEN, CA.clientContext());
        assertThat(api.post("/api/v1/projects", Map.of("name", "over-tls")).status()).isEqualTo(201);
        assertThat(api.get("/api/v1/projects").body()).contains("over-tls");
        assertThat(api.withToken("wrong").get("/api/v1/projects").status()).isEqualTo(401);
    }

    @Test
    void aClientThatCannotVerifyTheServerIsRefusedBeforeSendingAnything() throws Exception {
        // The JVM's own trust store does not hold the CA.
        Api untrusted = new Api("https://localhost:" + APP.getLocalPort(), RuntimeFixture.ADMIN_TOKEN, SSLContext.getDefault());
        assertThatThrownBy(() -> untrusted.get("/api/v1/projects")).hasCauseInstanceOf(SSLHandshakeException.class)
                .hasMessageContaining("PKIX path building failed");
        // Another CA's trust store.
        TestCertificates other = TestCertificates.authority(DIR, "other-ca");
        Api otherCa = new Api("https://localhost:" + APP.getLocalPort(), RuntimeFixture.ADMIN_TOKEN, other.clientContext());
        assertThatThrownBy(() -> otherCa.get("/api/v1/projects")).hasCauseInstanceOf(SSLHandshakeException.class)
                .hasMessageContaining("PKIX path building failed");
        // The right CA, but a host name the certificate does not name.
        Api wrongName = new Api("https://127.0.0.1:" + APP.getLocalPort(), RuntimeFixture.ADMIN_TOKEN, CA.clientContext());
        assertThatThrownBy(() -> wrongName.get("/api/v1/projects")).hasCauseInstanceOf(SSLHandshakeException.class)
                .hasMessageContaining("127.0.0.1");
    }

    @Test
    void plainHttpGetsNoAnswerOnTheHttpsPort() {
        Api plain = new Api("http://localhost:" + APP.getLocalPort(), RuntimeFixture.ADMIN_TOKEN);
        assertThatThrownBy(() -> plain.get("/api/v1/projects")).isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessageContaining("status line");
    }
}
