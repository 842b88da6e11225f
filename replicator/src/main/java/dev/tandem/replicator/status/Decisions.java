package dev.tandem.replicator.status;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The recent decisions of the control loops, each a sentence; a loop repeating its last sentence
 * is kept once (each loop is compared with itself, so two loops never make each other repeat).
 */
public final class Decisions {
    /** {@code at} is an ISO-8601 instant (UTC). */
    public record Decision(String at, String sentence) {}

    private static final Logger LOG = LoggerFactory.getLogger(Decisions.class);
    private static final int KEEP = 50;
    private final Deque<Decision> recent = new ArrayDeque<>();

    private final java.util.Map<String, String> lastByLoop = new java.util.HashMap<>();

    public synchronized void record(String sentence) {
        record("replication", sentence);
    }

    public synchronized void record(String loop, String sentence) {
        if (Objects.equals(lastByLoop.put(loop, sentence), sentence)) {
            return;
        }
        LOG.info("{}", sentence);
        recent.addLast(new Decision(Instant.now().toString(), sentence));
        while (recent.size() > KEEP) {
            recent.removeFirst();
        }
    }

    /** Records the sentence and returns it. */
    public String recordAndReturn(String loop, String sentence) {
        record(loop, sentence);
        return sentence;
    }

    public synchronized List<Decision> recent() {
        return new ArrayList<>(recent);
    }

    public synchronized String last() {
        Decision d = recent.peekLast();
        return d == null ? null : d.sentence();
    }
}
