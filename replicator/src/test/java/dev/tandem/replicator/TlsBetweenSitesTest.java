package dev.tandem.replicator;

import static dev.tandem.replicator.testing.TwoSites.checksums;
import static dev.tandem.replicator.testing.TwoSites.count;
import static dev.tandem.replicator.testing.TwoSites.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.kernel.testing.Machine;
import dev.tandem.replicator.failover.PeerClient;
import dev.tandem.replicator.failover.Peers;
import dev.tandem.replicator.testing.TwoSites;
import dev.tandem.runtime.testing.TestCertificates;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Site a's replicator serves HTTPS with a certificate signed by the sites' CA, for the name
 * "localhost". A passive site streams and seeds from it only when it verifies that certificate
 * (replication.tls.trustStorePath); the failover calls (promises, applied positions) verify it
 * too. A replicator that cannot verify the peer sends it nothing, applies nothing and says why.
 */
@Tag("sites")
class TlsBetweenSitesTest {
    static final TwoSites SITES = new TwoSites();
    static TestCertificates sitesCa;
    static TestCertificates otherCa;
    static TwoSites.Replicator replicatorA;

    @BeforeAll
    static void startTheActiveSiteOnHttps() {
        sitesCa = TestCertificates.authority(SITES.dir(), "sites-ca");
        otherCa = TestCertificates.authority(SITES.dir(), "other-ca");
        exec(SITES.urlA(), "CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
        exec(SITES.urlB(), "CREATE TABLE tandem.test_numbers (id uuid PRIMARY KEY, n bigint NOT NULL UNIQUE)");
        SITES.keyStore = sitesCa.serverKeyStore("site-a", "localhost");
        SITES.clientTls = sitesCa.clientContext();
        replicatorA = SITES.startA("direct", null);
        SITES.keyStore = null;
    }

    @AfterAll
    static void stop() {
        SITES.close();
    }

    @Test
    void aPassiveSiteFollowsTheActiveSiteOnlyOnceItVerifiedItsCertificate() {
        exec(SITES.urlA(), "INSERT INTO tandem.test_numbers VALUES (gen_random_uuid(), 1)");

        SITES.trustStore = otherCa.trustStore();
        TwoSites.Replicator untrusting = SITES.startB("direct", null, replicatorA);
        await().atMost(Machine.deadline(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(untrusting.get("/status")).contains("PKIX path building failed"));
        assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem.test_numbers")).isZero();
        untrusting.stop();

        SITES.trustStore = sitesCa.trustStore();
        SITES.startB("direct", null, replicatorA);
        exec(SITES.urlA(), "INSERT INTO tandem.test_numbers VALUES (gen_random_uuid(), 2)");
        await().atMost(Machine.deadline(Duration.ofSeconds(60))).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(count(SITES.urlB(), "SELECT count(*) FROM tandem.test_numbers")).isEqualTo(2));
        assertThat(checksums(SITES.urlB())).isEqualTo(checksums(SITES.urlA()));
    }

    @Test
    void failoverCallsReachOnlyAVerifiedPeerByTheNameItsCertificateHolds() {
        Duration timeout = Machine.deadline(Duration.ofSeconds(5));
        URI byName = URI.create(replicatorA.url());
        URI byAddress = URI.create(replicatorA.url().replace("localhost", "127.0.0.1"));

        Peers.Answer verified = new PeerClient("b", TwoSites.TOKEN, List.of(byName), timeout, sitesCa.clientContext())
                .applied("b").get(0);
        assertThat(verified.error()).isNull();
        assertThat(verified.status()).isEqualTo(200);

        Peers.Answer otherAuthority = new PeerClient("b", TwoSites.TOKEN, List.of(byName), timeout, otherCa.clientContext())
                .applied("b").get(0);
        assertThat(otherAuthority.answered()).isFalse();
        assertThat(otherAuthority.error()).contains("unable to find valid certification path");

        Peers.Answer wrongName = new PeerClient("b", TwoSites.TOKEN, List.of(byAddress), timeout, sitesCa.clientContext())
                .applied("b").get(0);
        assertThat(wrongName.answered()).isFalse();
        assertThat(wrongName.error()).contains("127.0.0.1");
    }
}
