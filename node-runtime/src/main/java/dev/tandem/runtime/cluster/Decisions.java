package dev.tandem.runtime.cluster;

import java.time.Instant;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Takeover, schedule and policy decisions: each a sentence, logged and kept for the cluster API. */
public final class Decisions {
    private static final Logger LOG = LoggerFactory.getLogger(Decisions.class);
    private static final int KEEP = 1000;

    public record Decision(long id, String member, Instant at, String kind, String sentence) {}

    private final Jdbi jdbi;
    private final String memberId;

    public Decisions(Jdbi jdbi, String memberId) {
        this.jdbi = jdbi;
        this.memberId = memberId;
    }

    public String record(String kind, String sentence) {
        LOG.info("[{}] {}", kind, sentence);
        try {
            jdbi.useHandle(h -> {
                h.createUpdate("INSERT INTO tandem_local.decisions (member_id, kind, sentence) VALUES (:m, :k, :s)")
                        .bind("m", memberId).bind("k", kind).bind("s", sentence).execute();
                h.createUpdate("DELETE FROM tandem_local.decisions WHERE id < (SELECT max(id) - :keep FROM tandem_local.decisions)")
                        .bind("keep", KEEP).execute();
            });
        } catch (RuntimeException e) {
            LOG.warn("Cannot store the decision ({}): {}", kind, e.getMessage());
        }
        return sentence;
    }

    public List<Decision> recent(int limit) {
        return jdbi.withHandle(h -> h.createQuery("SELECT id, member_id, at, kind, sentence FROM tandem_local.decisions ORDER BY id DESC LIMIT :n")
                .bind("n", limit)
                .map((rs, ctx) -> new Decision(rs.getLong(1), rs.getString(2), rs.getTimestamp(3).toInstant(), rs.getString(4), rs.getString(5)))
                .list());
    }
}
