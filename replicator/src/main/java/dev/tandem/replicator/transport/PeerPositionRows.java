package dev.tandem.replicator.transport;

import java.util.HashMap;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/** The applied position of each peer, one row per site in tandem_local.peer_positions. */
public final class PeerPositionRows implements PeerPositions.Store {
    private final Jdbi jdbi;

    public PeerPositionRows(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    @Override
    public Map<String, Long> load() {
        Map<String, Long> positions = new HashMap<>();
        jdbi.useHandle(h -> h.createQuery("SELECT site_id, applied_lsn FROM tandem_local.peer_positions")
                .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getLong(2)))
                .forEach(e -> positions.put(e.getKey(), e.getValue())));
        return positions;
    }

    @Override
    public void store(String site, long lsn, boolean onlyForward) {
        String update = onlyForward ? "GREATEST(tandem_local.peer_positions.applied_lsn, EXCLUDED.applied_lsn)" : "EXCLUDED.applied_lsn";
        jdbi.useHandle(h -> h.createUpdate("INSERT INTO tandem_local.peer_positions (site_id, applied_lsn, updated_at) "
                        + "VALUES (:site, :lsn, now()) ON CONFLICT (site_id) DO UPDATE SET applied_lsn = " + update + ", updated_at = now()")
                .bind("site", site)
                .bind("lsn", lsn)
                .execute());
    }

    @Override
    public void clear() {
        jdbi.useHandle(h -> h.execute("DELETE FROM tandem_local.peer_positions"));
    }
}
