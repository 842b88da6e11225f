package dev.tandem.replicator.failover;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * The other sites' replicators, as failover sees them: every call asks all of them and returns one
 * answer per site, each bounded by a timeout (an unanswered call is an answer with an error).
 * {@link PeerClient} calls them over HTTP; tests use an in-memory fake.
 */
public interface Peers {
    /** What one replicator answered; {@code error} when it did not (in time). */
    record Answer(URI source, int status, String site, String role, Long epoch, Long appliedPosition, String error, JsonNode body) {
        public Answer(URI source, int status, String site, String role, Long epoch, Long appliedPosition, String error) {
            this(source, status, site, role, epoch, appliedPosition, error, null);
        }

        public boolean answered() {
            return error == null;
        }
    }

    /** Asks every other site to promise not to promote while this site, at {@code epoch}, is active. */
    List<Answer> askPromises(long epoch);

    /** Asks site {@code target} to take over after this site fenced itself at {@code epoch}, {@code position} (a switchover). */
    List<Answer> askTakeover(String target, long epoch, long position, Duration timeout);

    /** What each other site applied of {@code sourceSite}'s transactions. */
    List<Answer> applied(String sourceSite);

    /** Every other site's status (role, epoch, applied position). */
    List<Answer> statuses();
}
