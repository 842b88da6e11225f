package dev.tandem.replicator.stream;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * One row change. Every value is PostgreSQL's text form of the column (what the column type's
 * input function reads), or null. A column the source did not send (an unchanged large value) is
 * absent, so apply leaves it as it is.
 *
 * @param table the table name in schema {@code tandem}
 * @param op {@code i} for an insert (applied as a plain insert; should the row exist already, the
 *     transaction is applied again with upserts), {@code u} for an update (applied as an upsert),
 *     {@code d} for a delete. A replicator of an earlier version upserts an {@code i} row.
 * @param key the primary-key column names
 * @param values column name to text value; for a delete, the key columns only
 * @param partial true when some column was left out (unchanged large value): apply then updates
 *     the existing row instead of upserting, since the row cannot be inserted without that column
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RowChange(String table, String op, List<String> key, Map<String, String> values, Boolean partial) {
    public static final String INSERT = "i";
    public static final String UPSERT = "u";
    public static final String DELETE = "d";

    @JsonIgnore
    public boolean omitsColumns() {
        return Boolean.TRUE.equals(partial);
    }

    @JsonIgnore
    public boolean isInsert() {
        return INSERT.equals(op);
    }

    @JsonIgnore
    public boolean isDelete() {
        return DELETE.equals(op);
    }

    @JsonIgnore
    public long sizeEstimate() {
        long size = 32 + table.length();
        for (Map.Entry<String, String> e : values.entrySet()) {
            size += e.getKey().length() + (e.getValue() == null ? 4 : e.getValue().length()) + 8;
        }
        return size;
    }
}
