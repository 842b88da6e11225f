package dev.tandem.runtime.auth;

import dev.tandem.runtime.refusal.Refusal;
import java.time.Duration;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Rate-limits password logins, per user name and per client address: after {@code maxPerUser}
 * failures of one user, or {@code maxPerAddress} failures from one address, within
 * {@code window} (database clock, shared by the members of a site), further attempts are refused
 * with 429 until the oldest failure leaves the window.
 *
 * <p>Each attempt is reserved as a failure before its password is checked, under a lock per user
 * and per address, so a burst of concurrent attempts gets exactly the allowed number of tries. A
 * correct password clears the user's failures; an attempt that never got checked is withdrawn.
 * Site-local state: never replicated.
 */
public final class LoginThrottle {
    private final Jdbi jdbi;
    private final int maxPerUser;
    private final int maxPerAddress;
    private final Duration window;

    public LoginThrottle(Jdbi jdbi, int maxPerUser, int maxPerAddress, Duration window) {
        this.jdbi = jdbi;
        this.maxPerUser = maxPerUser;
        this.maxPerAddress = maxPerAddress;
        this.window = window;
    }

    /** One reserved attempt: counts as a failure unless {@link #succeeded()} or {@link #withdrawn()}. */
    public final class Attempt {
        private final long id;
        private final String user;

        private Attempt(long id, String user) {
            this.id = id;
            this.user = user;
        }

        public void succeeded() {
            jdbi.useHandle(h -> h.createUpdate("DELETE FROM tandem_local.login_failures WHERE user_name = :user")
                    .bind("user", user).execute());
        }

        public void withdrawn() {
            jdbi.useHandle(h -> h.createUpdate("DELETE FROM tandem_local.login_failures WHERE id = :id").bind("id", id).execute());
        }
    }

    /** @throws Refusal 429 naming the seconds to wait, and whether the user or the address is locked */
    public Attempt begin(String user, String clientAddress) {
        return jdbi.inTransaction(h -> {
            // Lock order: user, then address; nothing waits for a user lock while holding an address lock.
            h.execute("SELECT pg_advisory_xact_lock(hashtext('login-user:' || ?))", user);
            h.execute("SELECT pg_advisory_xact_lock(hashtext('login-address:' || ?))", clientAddress);
            h.createUpdate("DELETE FROM tandem_local.login_failures WHERE failed_at < now() - make_interval(secs => :window)")
                    .bind("window", (double) window.toSeconds()).execute();
            Long userWait = waitSeconds(h, "user_name", user, maxPerUser);
            if (userWait != null) {
                throw new Refusal(Refusal.Kind.THROTTLED, "too many failed logins for user '" + user + "'; retry in " + userWait + " s", "user");
            }
            Long addressWait = waitSeconds(h, "client_address", clientAddress, maxPerAddress);
            if (addressWait != null) {
                throw new Refusal(Refusal.Kind.THROTTLED, "too many failed logins from this address; retry in " + addressWait + " s", "user");
            }
            long id = h.createQuery("""
                            INSERT INTO tandem_local.login_failures (user_name, client_address) VALUES (:user, :address) RETURNING id""")
                    .bind("user", user).bind("address", clientAddress).mapTo(Long.class).one();
            return new Attempt(id, user);
        });
    }

    private Long waitSeconds(Handle h, String column, String value, int max) {
        Long wait = h.createQuery("""
                        SELECT CASE WHEN count(*) >= :max
                               THEN ceil(extract(epoch FROM min(failed_at) + make_interval(secs => :window) - now()))::bigint END
                        FROM (SELECT failed_at FROM tandem_local.login_failures
                              WHERE %s = :value AND failed_at > now() - make_interval(secs => :window)
                              ORDER BY failed_at DESC LIMIT :max) recent""".formatted(column))
                .bind("value", value).bind("max", max).bind("window", (double) window.toSeconds())
                .mapTo(Long.class).one();
        return wait == null ? null : Math.max(1, wait);
    }
}
