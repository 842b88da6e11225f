package dev.tandem.replicator.testing;

import dev.tandem.replicator.transport.PeerPositions;
import java.util.HashMap;
import java.util.Map;

/** Peer positions kept in memory, with the stored table's rules (forward only unless reset). */
public final class MemoryPositions implements PeerPositions.Store {
    private final Map<String, Long> rows = new HashMap<>();

    @Override
    public synchronized Map<String, Long> load() {
        return Map.copyOf(rows);
    }

    @Override
    public synchronized void store(String site, long lsn, boolean onlyForward) {
        rows.merge(site, lsn, onlyForward ? Math::max : (before, now) -> now);
    }

    @Override
    public synchronized void clear() {
        rows.clear();
    }
}
