package dev.tandem.replicator.status;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The recent decisions of the control loop, each a sentence; repeated sentences are kept once. */
public final class Decisions {
    public record Decision(Instant at, String sentence) {}

    private static final Logger LOG = LoggerFactory.getLogger(Decisions.class);
    private static final int KEEP = 50;
    private final Deque<Decision> recent = new ArrayDeque<>();

    public synchronized void record(String sentence) {
        Decision last = recent.peekLast();
        if (last != null && Objects.equals(last.sentence(), sentence)) {
            return;
        }
        LOG.info("{}", sentence);
        recent.addLast(new Decision(Instant.now(), sentence));
        while (recent.size() > KEEP) {
            recent.removeFirst();
        }
    }

    public synchronized List<Decision> recent() {
        return new ArrayList<>(recent);
    }

    public synchronized String last() {
        Decision d = recent.peekLast();
        return d == null ? null : d.sentence();
    }
}
