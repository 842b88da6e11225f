package dev.tandem.replicator.seed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.replicator.apply.ApplyRefusedException;
import dev.tandem.replicator.apply.SchemaMismatchException;
import dev.tandem.replicator.apply.TableCatalog;
import java.io.BufferedReader;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a copy written by {@link SnapshotExport} into this passive site in one local transaction:
 * the rows, the source's epoch and identity in the site state, and the copy's position as the
 * applied position, so streaming starts exactly where the copy ends. Refuses a site that already
 * holds replicated data unless asked to replace it (a reseed).
 */
public final class SeedImport {
    private static final Logger LOG = LoggerFactory.getLogger(SeedImport.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Result(String sourceSite, long epoch, long position, long rows) {}

    private SeedImport() {}

    public static Result load(Connection c, String localSite, BufferedReader in, boolean replaceExisting) throws IOException, SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("SET session_replication_role = replica");
            s.execute(SiteGate.HOLD_SHARED);
            String role;
            long localEpoch;
            try (ResultSet rs = s.executeQuery("SELECT role, epoch FROM tandem_local.site_state")) {
                if (!rs.next()) {
                    throw new IllegalStateException("site '" + localSite + "' has no site-state row: start its node runtime once (it migrates and initialises the database)");
                }
                role = rs.getString(1);
                localEpoch = rs.getLong(2);
            }
            if (!"passive".equals(role)) {
                throw new ApplyRefusedException("site '" + localSite + "' is " + role + "; only a passive site can be seeded");
            }
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    + "WHERE n.nspname = 'tandem' AND c.relkind IN ('r', 'p') ORDER BY 1")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            String list = String.join(", ", tables.stream().map(t -> "tandem.\"" + t + "\"").toList());
            if (!replaceExisting) {
                for (String table : tables) {
                    try (ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM tandem.\"" + table + "\")")) {
                        rs.next();
                        if (rs.getBoolean(1)) {
                            throw new ApplyRefusedException("site '" + localSite + "' already holds replicated data (tandem." + table
                                    + ") but has never applied a change: reseed it to replace that data with a copy of the active site");
                        }
                    }
                }
            }
            s.execute("TRUNCATE " + list);
            s.execute("DELETE FROM tandem_local.applied_position");

            JsonNode header = JSON.readTree(in.readLine());
            if (header == null || !"header".equals(header.path("type").asText())) {
                throw new IOException("the seed stream does not start with a header");
            }
            String source = header.get("site").asText();
            long epoch = header.get("epoch").asLong();
            long position = header.get("position").asLong();
            if (epoch < localEpoch) {
                throw new ApplyRefusedException("site '" + source + "' is at epoch " + epoch + " but site '" + localSite
                        + "' has already seen epoch " + localEpoch + ": refusing to copy from a stale site");
            }
            TableCatalog catalog = TableCatalog.load(c);
            long rows = 0;
            String line;
            boolean ended = false;
            while ((line = in.readLine()) != null) {
                JsonNode chunk = JSON.readTree(line);
                String type = chunk.path("type").asText();
                if ("end".equals(type)) {
                    if (chunk.path("rows").asLong() != rows) {
                        throw new IOException("the seed stream announced " + chunk.path("rows").asLong() + " rows but carried " + rows);
                    }
                    ended = true;
                    break;
                }
                rows += insert(c, localSite, source, catalog, chunk);
            }
            if (!ended) {
                throw new IOException("the seed stream ended early after " + rows + " rows");
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE tandem_local.site_state SET epoch = ?, active_site_id = ?, active_site_url = ?, updated_at = now()")) {
                ps.setLong(1, epoch);
                ps.setString(2, source);
                ps.setString(3, header.path("activeSiteUrl").isNull() ? null : header.path("activeSiteUrl").asText());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tandem_local.applied_position (source_site, epoch, commit_lsn) VALUES (?, ?, ?)")) {
                ps.setString(1, source);
                ps.setLong(2, epoch);
                ps.setLong(3, position);
                ps.executeUpdate();
            }
            c.commit();
            LOG.info("Site '{}' seeded from site '{}' (epoch {}): {} rows, streaming from position {}",
                    localSite, source, epoch, rows, org.postgresql.replication.LogSequenceNumber.valueOf(position).asString());
            return new Result(source, epoch, position, rows);
        } catch (IOException | SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        }
    }

    private static long insert(Connection c, String localSite, String source, TableCatalog catalog, JsonNode chunk) throws SQLException {
        String table = chunk.get("table").asText();
        TableCatalog.Table local = catalog.table(table);
        if (local == null) {
            throw new SchemaMismatchException(source, localSite, "table tandem." + table);
        }
        Map<String, String> tableTypes = local.columnTypes();
        List<String> columns = new ArrayList<>();
        chunk.get("columns").forEach(n -> columns.add(n.asText()));
        StringBuilder sql = new StringBuilder("INSERT INTO tandem.\"").append(table).append("\" (");
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < columns.size(); i++) {
            String type = tableTypes.get(columns.get(i));
            if (type == null) {
                throw new SchemaMismatchException(source, localSite, "column tandem." + table + "." + columns.get(i));
            }
            sql.append(i > 0 ? ", " : "").append('"').append(columns.get(i)).append('"');
            values.append(i > 0 ? ", " : "").append("CAST(? AS ").append(type).append(')');
        }
        sql.append(") VALUES (").append(values).append(')');
        long n = 0;
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (JsonNode row : chunk.get("rows")) {
                for (int i = 0; i < columns.size(); i++) {
                    JsonNode v = row.get(i);
                    ps.setString(i + 1, v.isNull() ? null : v.asText());
                }
                ps.addBatch();
                n++;
            }
            ps.executeBatch();
        }
        return n;
    }
}
