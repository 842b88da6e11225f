package dev.tandem.replicator.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The replicated tables of this site's schema {@code tandem}: column types and primary keys. */
public final class TableCatalog {
    public record Table(String name, Map<String, String> columnTypes, List<String> primaryKey) {}

    private final Map<String, Table> tables;

    private TableCatalog(Map<String, Table> tables) {
        this.tables = tables;
    }

    public static TableCatalog load(Connection c) throws SQLException {
        Map<String, Map<String, String>> columns = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT cl.relname, a.attname, format_type(a.atttypid, a.atttypmod)
                FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
                WHERE n.nspname = 'tandem' AND cl.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY cl.relname, a.attnum""");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                columns.computeIfAbsent(rs.getString(1), k -> new LinkedHashMap<>()).put(rs.getString(2), rs.getString(3));
            }
        }
        Map<String, List<String>> keys = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT cl.relname, a.attname
                FROM pg_index i JOIN pg_class cl ON cl.oid = i.indrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
                JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
                JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum = k.attnum
                WHERE n.nspname = 'tandem' AND i.indisprimary
                ORDER BY cl.relname, k.ord""");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                keys.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2));
            }
        }
        Map<String, Table> tables = new HashMap<>();
        columns.forEach((name, cols) -> tables.put(name, new Table(name, cols, keys.getOrDefault(name, List.of()))));
        return new TableCatalog(tables);
    }

    public Table table(String name) {
        return tables.get(name);
    }

    public List<String> names() {
        return tables.keySet().stream().sorted().toList();
    }
}
