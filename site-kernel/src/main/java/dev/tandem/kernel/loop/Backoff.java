package dev.tandem.kernel.loop;

import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;

/**
 * The one back-off of Tandem's loops and retries: after the first failure in a row wait
 * {@code first}, then twice as long after each further one, never more than {@code max}
 * (resilience4j's exponential interval function). Loops that must not block keep the failure
 * count and the next attempt's time themselves; this says how long to wait.
 */
public record Backoff(Duration first, Duration max) {
    public Backoff {
        if (first.isNegative() || first.isZero() || max.compareTo(first) < 0) {
            throw new IllegalArgumentException("a back-off needs 0 < first <= max, not first " + first + ", max " + max);
        }
    }

    /** How long to wait after {@code failures} failures in a row (at least 1). */
    public Duration after(int failures) {
        if (failures < 1) {
            throw new IllegalArgumentException("a back-off starts at the first failure, not at " + failures);
        }
        return Duration.ofMillis(IntervalFunction.ofExponentialBackoff(first.toMillis(), 2.0, max.toMillis()).apply(failures));
    }
}
