package dev.tandem.kernel.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void theWaitDoublesAfterEachFailureInARowUpToTheCeiling() {
        Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30));
        List<Long> waits = new ArrayList<>();
        for (int failures = 1; failures <= 9; failures++) {
            waits.add(backoff.after(failures).toMillis());
        }
        assertThat(waits).containsExactly(500L, 1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 30_000L, 30_000L, 30_000L);
        assertThat(backoff.after(10_000)).as("no overflow after a very long run of failures").isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void aBackoffStartsAtTheFirstFailureAndNeedsAPositiveFirstWaitBelowItsCeiling() {
        Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1));
        assertThat(backoff.after(5)).isEqualTo(Duration.ofSeconds(1));
        assertThatThrownBy(() -> backoff.after(0)).hasMessageContaining("first failure");
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1))).hasMessageContaining("0 < first <= max");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1))).hasMessageContaining("0 < first <= max");
    }
}
