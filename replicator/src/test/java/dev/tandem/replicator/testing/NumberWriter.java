package dev.tandem.replicator.testing;

import dev.tandem.kernel.site.SiteGate;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jdbi.v3.core.Jdbi;

/**
 * Commits numbered rows into {@code tandem.test_numbers} through the site gate, as a runtime
 * would, to the first of the given sites that accepts the write, every {@code everyMillis}; records
 * every number that committed and on which site.
 */
public final class NumberWriter implements AutoCloseable {
    public final List<Long> committed = new CopyOnWriteArrayList<>();
    public final List<String> committedOn = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService pace = Executors.newSingleThreadScheduledExecutor();
    private long next;

    /** {@code sites}: site id to JDBC URL, tried in order. */
    public NumberWriter(Map<String, String> sites, long first, long everyMillis) {
        this.next = first;
        List<Map.Entry<String, SiteGate>> gates = sites.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), new SiteGate(Jdbi.create(e.getValue(), "postgres", "")))).toList();
        pace.scheduleWithFixedDelay(() -> {
            for (Map.Entry<String, SiteGate> site : gates) {
                long number = next;
                try {
                    site.getValue().write(h -> h.createUpdate("INSERT INTO tandem.test_numbers (id, n) VALUES (:id, :n)")
                            .bind("id", UUID.randomUUID()).bind("n", number).execute());
                    committed.add(number);
                    committedOn.add(site.getKey());
                    next++;
                    return;
                } catch (RuntimeException refused) {
                    // passive, fenced, lease lapsed: nothing committed there
                }
            }
        }, 0, everyMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        pace.shutdownNow();
        pace.awaitTermination(10, TimeUnit.SECONDS);
    }
}
