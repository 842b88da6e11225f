package dev.tandem.replicator.seed;

import dev.tandem.replicator.apply.ApplyRefusedException;
import dev.tandem.replicator.apply.ApplyStats;
import dev.tandem.replicator.status.Decisions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.Supplier;

/** Asks the active site's replicator for a copy when this passive site has none yet, and loads it. */
public final class SeedClient {
    /** Which site this site follows, and from where it has applied. */
    public record Following(String sourceSite, long position) {}

    private final String localSite;
    private final String token;
    private final Supplier<Connection> connections;
    private final Duration timeout;
    private final javax.net.ssl.SSLContext trust;

    public SeedClient(String localSite, String token, Supplier<Connection> connections, Duration timeout, javax.net.ssl.SSLContext trust) {
        this.localSite = localSite;
        this.token = token;
        this.connections = connections;
        this.timeout = timeout;
        this.trust = trust;
    }

    /**
     * What this site follows; seeds it from {@code source} first when it holds no copy yet, or
     * when a reseed was asked for ({@code replace}).
     */
    public Following ensureSeeded(URI source, boolean replace, ApplyStats stats, Decisions decisions) throws IOException, SQLException {
        Following following = replace ? null : following();
        if (following != null) {
            return following;
        }
        decisions.record((replace ? "reseeding: replacing site '" + localSite + "''s replicated data with a copy from "
                : "seeding: site '" + localSite + "' holds no copy yet; copying from ") + source);
        SeedImport.Result result = seed(source, replace);
        stats.seeded(result.position());
        decisions.record("seeded: " + result.rows() + " rows from site '" + result.sourceSite() + "' at epoch "
                + result.epoch() + "; replicating from there");
        return new Following(result.sourceSite(), result.position());
    }

    /** What this site follows, or null when it has never been seeded. */
    public Following following() throws SQLException {
        try (Connection c = connections.get();
             PreparedStatement ps = c.prepareStatement("""
                     SELECT s.active_site_id, p.commit_lsn FROM tandem_local.site_state s
                     LEFT JOIN tandem_local.applied_position p ON p.source_site = s.active_site_id""");
             ResultSet rs = ps.executeQuery()) {
            if (!rs.next() || rs.getString(1) == null || rs.getObject(2) == null) {
                return null;
            }
            return new Following(rs.getString(1), rs.getLong(2));
        }
    }

    /** Copies the active site's replicated schema from {@code source}; replaces local data only if asked. */
    public SeedImport.Result seed(URI source, boolean replaceExisting) throws IOException, SQLException {
        URI uri = source.resolve("/replication/v1/seed?site=" + localSite);
        HttpURLConnection http = dev.tandem.replicator.settings.PeerTrust.apply((HttpURLConnection) uri.toURL().openConnection(), trust);
        http.setRequestMethod("POST");
        http.setRequestProperty("Authorization", "Bearer " + token);
        http.setConnectTimeout((int) timeout.toMillis());
        http.setReadTimeout((int) Math.max(timeout.toMillis(), 60_000));
        http.setRequestProperty("Content-Type", "application/json");
        http.setDoOutput(true);
        http.getOutputStream().close();
        int status = http.getResponseCode();
        if (status == 401 || status == 403) {
            throw new ApplyRefusedException("the replicator at " + source + " refused to seed site '" + localSite + "': HTTP " + status
                    + " " + HttpErrors.body(http));
        }
        if (status != 200) {
            throw new IOException("seeding from " + source + " failed: HTTP " + status + " " + HttpErrors.body(http));
        }
        try (BufferedReader in = new BufferedReader(new InputStreamReader(http.getInputStream(), StandardCharsets.UTF_8), 1 << 16);
             Connection c = connections.get()) {
            return SeedImport.load(c, localSite, in, replaceExisting);
        } finally {
            http.disconnect();
        }
    }

}
