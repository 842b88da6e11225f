package dev.tandem.runtime.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.kernel.testing.TestPostgres;
import dev.tandem.runtime.refusal.Refusal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The login throttle on a real PostgreSQL: per user, per client address, and exact under concurrency. */
class LoginThrottleTest {
    static final com.zaxxer.hikari.HikariDataSource POOL = TestPostgres.migratedPool(TestPostgres.newDatabase("throttle"), 40);
    static final Jdbi JDBI = Jdbi.create(POOL);

    @AfterAll
    static void close() {
        POOL.close();
    }

    @Test
    void manyUserNamesFromOneAddressAreLimitedByTheAddress() {
        LoginThrottle throttle = new LoginThrottle(JDBI, 5, 3, Duration.ofMinutes(1));
        for (String user : List.of("alice", "bob", "carol")) {
            throttle.begin(user, "198.51.100.7"); // each a failure: never marked succeeded
        }
        assertThatThrownBy(() -> throttle.begin("dave", "198.51.100.7"))
                .isInstanceOf(Refusal.class)
                .hasMessageStartingWith("too many failed logins from this address; retry in")
                .satisfies(e -> assertThat(((Refusal) e).kind()).isEqualTo(Refusal.Kind.THROTTLED));
        throttle.begin("dave", "203.0.113.9").succeeded(); // another address is not affected
    }

    @Test
    void aWithdrawnAttemptAndASuccessDoNotCount() {
        LoginThrottle throttle = new LoginThrottle(JDBI, 2, 100, Duration.ofMinutes(1));
        throttle.begin("erin", "192.0.2.1").withdrawn();
        throttle.begin("erin", "192.0.2.1").withdrawn();
        throttle.begin("erin", "192.0.2.1"); // one failure
        throttle.begin("erin", "192.0.2.1").succeeded(); // clears the user's failures
        throttle.begin("erin", "192.0.2.1");
        throttle.begin("erin", "192.0.2.1");
        assertThatThrownBy(() -> throttle.begin("erin", "192.0.2.1")).hasMessageStartingWith("too many failed logins for user 'erin'");
    }

    @Test
    void concurrentAttemptsGetExactlyTheAllowedNumber() throws Exception {
        LoginThrottle throttle = new LoginThrottle(JDBI, 5, 1000, Duration.ofMinutes(1));
        ExecutorService pool = Executors.newFixedThreadPool(32);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Boolean>> attempts = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            attempts.add(pool.submit(() -> {
                start.await();
                try {
                    throttle.begin("frank", "192.0.2.2");
                    return true;
                } catch (Refusal e) {
                    return false;
                }
            }));
        }
        start.countDown();
        int allowed = 0;
        for (Future<Boolean> attempt : attempts) {
            allowed += attempt.get() ? 1 : 0;
        }
        pool.shutdown();
        assertThat(allowed).isEqualTo(5);
    }
}
