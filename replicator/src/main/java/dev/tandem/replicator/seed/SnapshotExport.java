package dev.tandem.replicator.seed;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.tandem.replicator.capture.CaptureSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.LongConsumer;

/**
 * A consistent copy of this site's replicated schema for a new passive site. A temporary logical
 * slot is created with {@code SNAPSHOT 'use'} inside a repeatable-read transaction: the rows read
 * in that transaction contain exactly the transactions that committed at or before the slot's
 * consistent point, and the change stream carries every later one, so the passive site streams
 * from exactly where the copy ends. The copy is newline-delimited JSON: a header, row chunks, an end.
 */
public final class SnapshotExport {
    private static final JsonFactory JSON = new JsonFactory();
    private static final int CHUNK = 500;

    private final CaptureSettings source;

    public SnapshotExport(CaptureSettings source) {
        this.source = source;
    }

    /**
     * Writes the copy. {@code atConsistentPoint} is called with the copy's position before any row
     * is sent, so the caller can hold changes after it for the new site.
     */
    public long write(String forSite, OutputStream out, LongConsumer atConsistentPoint) throws IOException, SQLException {
        Properties props = new Properties();
        props.setProperty("user", source.user());
        props.setProperty("password", source.password());
        props.setProperty("replication", "database");
        props.setProperty("preferQueryMode", "simple");
        props.setProperty("assumeMinServerVersion", "10");
        props.setProperty("ApplicationName", "tandem-seed-" + forSite);
        long rows = 0;
        try (Connection c = DriverManager.getConnection(source.jdbcUrl(), props);
             Statement s = c.createStatement();
             JsonGenerator json = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            long position;
            String slot = "tandem_seed_" + forSite.replaceAll("[^a-z0-9_]", "_") + "_" + System.nanoTime() % 1_000_000;
            try (ResultSet rs = s.executeQuery("CREATE_REPLICATION_SLOT " + slot + " TEMPORARY LOGICAL pgoutput (SNAPSHOT 'use')")) {
                rs.next();
                position = org.postgresql.replication.LogSequenceNumber.valueOf(rs.getString("consistent_point")).asLong();
            }
            atConsistentPoint.accept(position);
            String siteId;
            long epoch;
            String activeUrl;
            try (ResultSet rs = s.executeQuery("SELECT site_id, epoch, active_site_url, role FROM tandem_local.site_state")) {
                if (!rs.next()) {
                    throw new IllegalStateException("the source database has no site-state row");
                }
                if (!"active".equals(rs.getString(4))) {
                    throw new IllegalStateException("site '" + rs.getString(1) + "' is " + rs.getString(4) + ", not active: it cannot seed another site");
                }
                siteId = rs.getString(1);
                epoch = rs.getLong(2);
                activeUrl = rs.getString(3);
            }
            json.setRootValueSeparator(null);
            json.writeStartObject();
            json.writeStringField("type", "header");
            json.writeStringField("site", siteId);
            json.writeNumberField("epoch", epoch);
            json.writeStringField("activeSiteUrl", activeUrl);
            json.writeNumberField("position", position);
            json.writeEndObject();
            json.writeRaw('\n');
            for (String table : tables(s)) {
                rows += copyTable(s, table, json);
            }
            json.writeStartObject();
            json.writeStringField("type", "end");
            json.writeNumberField("rows", rows);
            json.writeEndObject();
            json.writeRaw('\n');
            json.flush();
            s.execute("COMMIT");
            return position;
        }
    }

    private static List<String> tables(Statement s) throws SQLException {
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = 'tandem' AND c.relkind IN ('r', 'p') ORDER BY c.relname")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        return tables;
    }

    private static long copyTable(Statement s, String table, JsonGenerator json) throws SQLException, IOException {
        String quoted = "\"" + table.replace("\"", "\"\"") + "\"";
        s.execute("DECLARE seed_rows NO SCROLL CURSOR FOR SELECT * FROM tandem." + quoted);
        long rows = 0;
        while (true) {
            try (ResultSet rs = s.executeQuery("FETCH " + CHUNK + " FROM seed_rows")) {
                ResultSetMetaData meta = rs.getMetaData();
                int n = 0;
                while (rs.next()) {
                    if (n == 0) {
                        json.writeStartObject();
                        json.writeStringField("type", "rows");
                        json.writeStringField("table", table);
                        json.writeArrayFieldStart("columns");
                        for (int i = 1; i <= meta.getColumnCount(); i++) {
                            json.writeString(meta.getColumnName(i));
                        }
                        json.writeEndArray();
                        json.writeArrayFieldStart("rows");
                    }
                    json.writeStartArray();
                    for (int i = 1; i <= meta.getColumnCount(); i++) {
                        json.writeString(rs.getString(i));
                    }
                    json.writeEndArray();
                    n++;
                }
                if (n == 0) {
                    break;
                }
                json.writeEndArray();
                json.writeEndObject();
                json.writeRaw('\n');
                rows += n;
            }
        }
        s.execute("CLOSE seed_rows");
        return rows;
    }
}
