package dev.tandem.runtime.auth;

import dev.tandem.runtime.api.ApiException;
import java.time.Duration;
import org.jdbi.v3.core.Jdbi;

/**
 * Rate-limits password logins per user name: after {@code maxFailures} failures within
 * {@code window} (database clock, shared by the members of a site), further attempts are refused
 * with 429 until the oldest failure leaves the window. Site-local state: never replicated.
 */
public final class LoginThrottle {
    private final Jdbi jdbi;
    private final int maxFailures;
    private final Duration window;

    public LoginThrottle(Jdbi jdbi, int maxFailures, Duration window) {
        this.jdbi = jdbi;
        this.maxFailures = maxFailures;
        this.window = window;
    }

    /** @throws ApiException 429 with the seconds to wait */
    public void check(String user) {
        Long waitSeconds = jdbi.withHandle(h -> h.createQuery("""
                        SELECT CASE WHEN count(*) >= :max
                               THEN ceil(extract(epoch FROM min(failed_at) + make_interval(secs => :window) - now()))::bigint END
                        FROM (SELECT failed_at FROM tandem_local.login_failures
                              WHERE user_name = :user AND failed_at > now() - make_interval(secs => :window)
                              ORDER BY failed_at DESC LIMIT :max) recent""")
                .bind("user", user).bind("max", maxFailures).bind("window", (double) window.toSeconds())
                .mapTo(Long.class).one());
        if (waitSeconds != null) {
            throw new ApiException(429, "too many failed logins for user '" + user + "'; retry in " + Math.max(1, waitSeconds) + " s", "user");
        }
    }

    public void failed(String user) {
        jdbi.useHandle(h -> {
            h.createUpdate("INSERT INTO tandem_local.login_failures (user_name) VALUES (:user)").bind("user", user).execute();
            h.createUpdate("DELETE FROM tandem_local.login_failures WHERE failed_at < now() - make_interval(secs => :window)")
                    .bind("window", (double) window.toSeconds()).execute();
        });
    }

    public void succeeded(String user) {
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM tandem_local.login_failures WHERE user_name = :user").bind("user", user).execute());
    }
}
