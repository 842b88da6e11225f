package dev.tandem.replicator.transport;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jdbi.v3.core.Jdbi;

/**
 * What each passive site has durably applied, as the capture site knows it; kept in
 * {@code tandem_local.peer_positions} so a restarted capture still holds its slot for them.
 */
public final class PeerPositions {
    private final Jdbi jdbi;
    private final List<String> peers;
    private final Map<String, Long> applied = new ConcurrentHashMap<>();

    public PeerPositions(Jdbi jdbi, List<String> peers) {
        this.jdbi = jdbi;
        this.peers = List.copyOf(peers);
        jdbi.useHandle(h -> h.createQuery("SELECT site_id, applied_lsn FROM tandem_local.peer_positions")
                .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getLong(2)))
                .forEach(e -> applied.put(e.getKey(), e.getValue())));
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
        store(site, appliedLsn, "GREATEST(tandem_local.peer_positions.applied_lsn, EXCLUDED.applied_lsn)");
        applied.merge(site, appliedLsn, Math::max);
    }

    /** Sets a site's position outright: a seed starts it from the seed's consistent point. */
    public void reset(String site, long appliedLsn) {
        store(site, appliedLsn, "EXCLUDED.applied_lsn");
        applied.put(site, appliedLsn);
    }

    /** Forgets every peer's position (this site was promoted: every peer starts from a fresh copy). */
    public void forgetAll() {
        jdbi.useHandle(h -> h.execute("DELETE FROM tandem_local.peer_positions"));
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

    private void store(String site, long lsn, String update) {
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO tandem_local.peer_positions (site_id, applied_lsn, updated_at) "
                        + "VALUES (:site, :lsn, now()) ON CONFLICT (site_id) DO UPDATE SET applied_lsn = " + update + ", updated_at = now()")
                .bind("site", site)
                .bind("lsn", lsn)
                .execute());
    }
}
