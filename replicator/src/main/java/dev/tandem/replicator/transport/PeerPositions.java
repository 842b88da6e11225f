package dev.tandem.replicator.transport;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jdbi.v3.core.Jdbi;

/**
 * What each passive site has durably applied, as the capture site knows it; kept in a
 * {@link Store} (tandem_local.peer_positions, {@link PeerPositionRows}) so a restarted capture
 * still holds its slot for them, and read from memory.
 */
public final class PeerPositions {
    /** Where the positions are kept across restarts. */
    public interface Store {
        /** Every site's stored position. */
        Map<String, Long> load();

        /** Stores {@code lsn} for {@code site}: the greater of it and the stored one when {@code onlyForward}, else outright. */
        void store(String site, long lsn, boolean onlyForward);

        /** Forgets every site's position. */
        void clear();
    }

    private final Store store;
    private final List<String> peers;
    private final Map<String, Long> applied = new ConcurrentHashMap<>();

    public PeerPositions(Jdbi jdbi, List<String> peers) {
        this(new PeerPositionRows(jdbi), peers);
    }

    public PeerPositions(Store store, List<String> peers) {
        this.store = store;
        this.peers = List.copyOf(peers);
        applied.putAll(store.load());
    }

    public List<String> peers() {
        return peers;
    }

    public boolean isPeer(String site) {
        return peers.contains(site);
    }

    /** Records a site's applied position; a position never moves back, except through {@link #reset}. */
    public void record(String site, long appliedLsn) {
        Long before = applied.get(site);
        if (before != null && before >= appliedLsn) {
            return;
        }
        store.store(site, appliedLsn, true);
        applied.merge(site, appliedLsn, Math::max);
    }

    /** Sets a site's position outright: a seed starts it from the seed's consistent point. */
    public void reset(String site, long appliedLsn) {
        store.store(site, appliedLsn, false);
        applied.put(site, appliedLsn);
    }

    /** Forgets every peer's position (this site was promoted: every peer starts from a fresh copy). */
    public void forgetAll() {
        store.clear();
        applied.clear();
    }

    public Long position(String site) {
        return applied.get(site);
    }

    /**
     * The smallest position over the configured peers that have one; -1 when none has. A peer
     * without a position has never been seeded: it will start from a fresh copy, so nothing is held
     * for it (see {@link #unseeded()}).
     */
    public long minimum() {
        long min = Long.MAX_VALUE;
        for (String peer : peers) {
            Long position = applied.get(peer);
            if (position != null) {
                min = Math.min(min, position);
            }
        }
        return min == Long.MAX_VALUE ? -1 : min;
    }

    /** Configured peers that have never been seeded. */
    public List<String> unseeded() {
        return peers.stream().filter(p -> !applied.containsKey(p)).toList();
    }
}
