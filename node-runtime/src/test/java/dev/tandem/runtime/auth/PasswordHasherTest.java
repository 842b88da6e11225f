package dev.tandem.runtime.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.runtime.refusal.Refusal;
import org.junit.jupiter.api.Test;

class PasswordHasherTest {
    final PasswordHasher hasher = new PasswordHasher(2, java.time.Duration.ofSeconds(5), new com.codahale.metrics.MetricRegistry());

    @Test
    void argon2idHashesVerifyOnlyTheRightPasswordAndAreSalted() {
        String hash = hasher.hash("s3cret!");
        assertThat(hash).startsWith("$argon2id$v=19$m=19456,t=2,p=1$").doesNotContain("s3cret");
        assertThat(hasher.verify("s3cret!", hash)).isTrue();
        assertThat(hasher.verify("s3cret", hash)).isFalse();
        assertThat(hasher.hash("s3cret!")).as("a new salt every time").isNotEqualTo(hash);
        assertThat(hasher.verify("s3cret!", null)).isFalse();
        assertThat(hasher.verify("s3cret!", "$2a$10$bcrypt-is-not-accepted")).isFalse();
    }

    @Test
    void tokensAreRandomAndStoredOnlyAsTheirHash() {
        Tokens tokens = new Tokens();
        String a = tokens.newToken();
        assertThat(a).startsWith("tdm_").hasSize(4 + 43);
        assertThat(tokens.newToken()).isNotEqualTo(a);
        assertThat(Tokens.hash(a)).hasSize(64).isEqualTo(Tokens.hash(a)).doesNotContain(a.substring(4));
    }

    @Test
    void hashesBeyondTheBoundWaitAndThenAreRefusedWith503() throws Exception {
        PasswordHasher one = new PasswordHasher(1, java.time.Duration.ZERO, new com.codahale.metrics.MetricRegistry());
        String stored = one.hash("s3cret!");
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(2);
        java.util.concurrent.Callable<String> check = () -> {
            together.await();
            try {
                return String.valueOf(one.verify("s3cret!", stored));
            } catch (Refusal e) {
                return e.kind() + " " + e.getMessage();
            }
        };
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        java.util.List<String> outcomes = new java.util.ArrayList<>();
        for (java.util.concurrent.Future<String> f : pool.invokeAll(java.util.List.of(check, check))) {
            outcomes.add(f.get());
        }
        pool.shutdown();
        assertThat(outcomes).containsExactlyInAnyOrder("true", "UNAVAILABLE too many password checks in progress; retry in a few seconds");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> hasher.verify("x".repeat(PasswordHasher.MAX_PASSWORD_LENGTH + 1), stored))
                .hasMessage("a password is at most 1024 characters");
    }
}
