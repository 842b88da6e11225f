package dev.tandem.replicator.testing;

import dev.tandem.replicator.failover.Peers;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The other sites' replicators in memory: each answers or not, with its role, epoch and applied
 * position, and promises to stay passive when asked (as the real endpoint does: a site active at a
 * higher epoch answers 409 instead).
 */
public final class MemoryPeers implements Peers {
    /** One other site, as the test sets it. */
    public static final class Site {
        public final String id;
        public volatile boolean reachable = true;
        public volatile boolean promises = true;
        public volatile String role = "passive";
        public volatile long epoch = 1;
        public volatile long appliedPosition = -1;
        /** Its public URL, in its status while it is active. */
        public volatile String url;
        /** What it applied of each other site's transactions, as its /applied answers. */
        public final Map<String, Long> appliedOf = new java.util.concurrent.ConcurrentHashMap<>();
        /** How it answers a switchover's takeover: 200 promotes it to the next epoch, with its slot starting at {@code slotStart}. */
        public volatile int takeoverStatus = 200;
        public volatile long slotStart = 7_000;

        Site(String id) {
            this.id = id;
        }

        public URI source() {
            return URI.create("http://site-" + id + ".test:8280");
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private final Map<String, Site> sites = new LinkedHashMap<>();

    public synchronized Site site(String id) {
        return sites.computeIfAbsent(id, Site::new);
    }

    @Override
    public synchronized List<Answer> askPromises(long epoch) {
        List<Answer> out = new ArrayList<>();
        for (Site s : sites.values()) {
            if (!s.reachable) {
                out.add(silent(s));
            } else if ("active".equals(s.role) && s.epoch > epoch) {
                out.add(new Answer(s.source(), 409, s.id, s.role, s.epoch, s.appliedPosition, null));
            } else if (s.promises) {
                out.add(new Answer(s.source(), 200, s.id, s.role, s.epoch, s.appliedPosition, null));
            } else {
                out.add(new Answer(s.source(), 503, s.id, s.role, s.epoch, s.appliedPosition, "HTTP 503: promoting"));
            }
        }
        return out;
    }

    @Override
    public synchronized List<Answer> askTakeover(String target, long epoch, long position, Duration timeout) {
        List<Answer> out = new ArrayList<>();
        for (Site s : sites.values()) {
            if (!s.reachable) {
                out.add(silent(s));
            } else if (s.id.equals(target) && s.takeoverStatus == 200) {
                s.role = "active";
                s.epoch = epoch + 1;
                out.add(new Answer(s.source(), 200, s.id, s.role, s.epoch, s.appliedPosition, null, JSON.createObjectNode()
                        .put("sentence", "site '" + s.id + "' promoted").put("epoch", s.epoch).put("slotStart", s.slotStart).put("url", s.url)));
            } else if (s.id.equals(target)) {
                out.add(new Answer(s.source(), s.takeoverStatus, s.id, s.role, s.epoch, s.appliedPosition, null,
                        JSON.createObjectNode().put("sentence", "site '" + s.id + "' refuses to take over")));
            } else {
                out.add(new Answer(s.source(), 404, s.id, s.role, s.epoch, s.appliedPosition, null));
            }
        }
        return out;
    }

    @Override
    public synchronized List<Answer> applied(String sourceSite) {
        List<Answer> out = new ArrayList<>();
        for (Site s : sites.values()) {
            Long position = s.appliedOf.get(sourceSite);
            out.add(!s.reachable ? silent(s) : new Answer(s.source(), 200, s.id, s.role, s.epoch, s.appliedPosition, null,
                    position == null ? null : JSON.createObjectNode().put("position", position)));
        }
        return out;
    }

    @Override
    public synchronized List<Answer> statuses() {
        List<Answer> out = new ArrayList<>();
        for (Site s : sites.values()) {
            out.add(s.reachable ? new Answer(s.source(), 200, s.id, s.role, s.epoch, s.appliedPosition, null,
                    JSON.createObjectNode().put("activeSiteUrl", "active".equals(s.role) ? s.url : null)) : silent(s));
        }
        return out;
    }

    private static Answer silent(Site s) {
        return new Answer(s.source(), 0, null, null, null, null, "no answer within 500 ms");
    }
}
