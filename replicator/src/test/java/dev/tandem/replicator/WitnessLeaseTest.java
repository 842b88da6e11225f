package dev.tandem.replicator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.replicator.failover.FailoverSettings;
import dev.tandem.replicator.testing.LinkProxy;
import dev.tandem.replicator.witness.Lease;
import dev.tandem.replicator.witness.S3Witness;
import dev.tandem.replicator.witness.Witness;
import dev.tandem.runtime.testing.S3Server;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The witness lease on a real S3-compatible server: of two contenders exactly one wins, every
 * renewal is a new version, a silent store is reported within the timeout; and the failover
 * timing is checked at start-up.
 */
class WitnessLeaseTest {
    static S3Witness witness(int port, String key) {
        return new S3Witness(new S3Witness.Settings("http://127.0.0.1:" + port, "us-east-1", S3Server.BUCKET, key, "test", "test", true,
                Duration.ofMillis(800)));
    }

    /**
     * The store's first answers (and this JVM's first S3 calls) are slow while both warm up; the
     * timings below are about a warm witness, so the first call is made here without a deadline.
     */
    @org.junit.jupiter.api.BeforeAll
    static void warmUp() throws Exception {
        try (S3Witness w = new S3Witness(new S3Witness.Settings(S3Server.shared().endpoint(), "us-east-1", S3Server.BUCKET,
                "witness/warm-up.json", S3Server.ACCESS_KEY_ID, S3Server.SECRET_ACCESS_KEY, true, Duration.ofSeconds(60)))) {
            w.read();
        }
    }

    @Test
    void conditionalWritesLetExactlyOneContenderWinAndEveryRenewalIsANewVersion() throws Exception {
        String key = "witness/" + UUID.randomUUID() + ".json";
        try (S3Witness a = witness(S3Server.shared().port(), key); S3Witness b = witness(S3Server.shared().port(), key)) {
            assertThat(a.read()).isEmpty();
            Lease first = a.create("a", 1, 1);
            assertThatThrownBy(() -> b.create("b", 1, 1)).isInstanceOf(Witness.LeaseConflictException.class);

            Lease seenByB = b.read().orElseThrow();
            assertThat(seenByB).isEqualTo(first);
            Lease renewed = a.replace(first, "a", 1, 2);
            assertThat(renewed.version()).isNotEqualTo(first.version());
            // b's take is conditional on the version it saw, which the renewal replaced.
            assertThatThrownBy(() -> b.replace(seenByB, "b", 2, 1)).isInstanceOf(Witness.LeaseConflictException.class);
            Lease taken = b.replace(b.read().orElseThrow(), "b", 2, 1);
            assertThat(b.read().orElseThrow()).isEqualTo(taken);
            // The old holder's renewal now fails: it learns of the higher epoch by reading.
            assertThatThrownBy(() -> a.replace(renewed, "a", 1, 3)).isInstanceOf(Witness.LeaseConflictException.class);
            assertThat(a.read().orElseThrow().epoch()).isEqualTo(2);
        }
    }

    /** The store answers only requests signed with its key, as a real S3 does (and so the demo's witness). */
    @Test
    void theWitnessStoreRefusesAnyoneWithoutItsSecretKey() throws Exception {
        String key = "witness/" + UUID.randomUUID() + ".json";
        try (S3Witness wrongSecret = new S3Witness(new S3Witness.Settings(S3Server.shared().endpoint(), "us-east-1", S3Server.BUCKET, key,
                S3Server.ACCESS_KEY_ID, "not-the-secret", true, Duration.ofSeconds(5)));
             S3Witness wrongKey = new S3Witness(new S3Witness.Settings(S3Server.shared().endpoint(), "us-east-1", S3Server.BUCKET, key,
                     "someone-else", S3Server.SECRET_ACCESS_KEY, true, Duration.ofSeconds(5)));
             S3Witness holder = witness(S3Server.shared().port(), key)) {
            assertThatThrownBy(wrongSecret::read).isInstanceOf(Witness.WitnessUnavailableException.class)
                    .hasMessageContaining("Status Code: 403");
            assertThatThrownBy(() -> wrongSecret.create("b", 2, 1)).isInstanceOf(Witness.WitnessUnavailableException.class)
                    .hasMessageContaining("Status Code: 403");
            assertThatThrownBy(() -> wrongKey.create("b", 2, 1)).isInstanceOf(Witness.WitnessUnavailableException.class)
                    .hasMessageContaining("Status Code: 403");
            // Nothing they sent took effect: the lease is still free for the holder of the key.
            assertThat(holder.read()).isEmpty();
            assertThat(holder.create("a", 1, 1).holder()).isEqualTo("a");
        }
        java.net.http.HttpResponse<String> unsigned = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(S3Server.shared().endpoint() + "/" + S3Server.BUCKET + "/" + key)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(unsigned.statusCode()).isEqualTo(403);
        assertThat(unsigned.body()).contains("not signed").doesNotContain("\"a\"");
    }

    @Test
    void aSilentWitnessIsReportedWithinItsTimeout() throws Exception {
        try (LinkProxy link = new LinkProxy("witness", S3Server.shared().port());
             S3Witness w = witness(link.port(), "witness/" + UUID.randomUUID() + ".json")) {
            assertThat(w.read()).isEmpty();
            link.cut();
            long start = System.nanoTime();
            assertThatThrownBy(w::read).isInstanceOf(Witness.WitnessUnavailableException.class).hasMessageContaining("cannot read the lease");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1500));
        }
    }

    @Test
    void unsafeTimingIsRefusedAtStartUpNamingTheSettings() {
        Duration s = Duration.ofSeconds(1);
        assertThat(FailoverSettings.problem(s, Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofSeconds(4), Duration.ofSeconds(5),
                Duration.ofMillis(800))).isNull();
        assertThat(FailoverSettings.problem(s, Duration.ofSeconds(3), Duration.ofSeconds(1), Duration.ofSeconds(4), Duration.ofSeconds(5),
                Duration.ofMillis(800))).contains("failover.fenceAfter + failover.fenceTime").contains("failover.leaseTtl");
        assertThat(FailoverSettings.problem(s, Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofSeconds(5), Duration.ofSeconds(5),
                Duration.ofMillis(800))).contains("must be less than failover.promoteAfter");
        assertThat(FailoverSettings.problem(s, Duration.ofMillis(1500), Duration.ofMillis(500), Duration.ofSeconds(4), Duration.ofSeconds(5),
                Duration.ofMillis(800))).contains("at least two replication.interval");
        assertThat(FailoverSettings.problem(s, Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofSeconds(4), Duration.ofSeconds(5),
                Duration.ofSeconds(2))).contains("failover.witness.timeout");
    }
}
