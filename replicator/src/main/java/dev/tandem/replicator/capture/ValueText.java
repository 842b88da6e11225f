package dev.tandem.replicator.capture;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.connect.data.Schema;

/**
 * Turns a Debezium (Kafka Connect) column value back into PostgreSQL's text form, which the
 * passive site casts to the column's own type. Unchanged large values arrive as a placeholder;
 * {@link #UNCHANGED} tells the caller to leave the column out rather than write it.
 */
final class ValueText {
    /** The placeholder configured as Debezium's {@code unavailable.value.placeholder}. */
    static final String PLACEHOLDER = "__tandem_unchanged_toast_8d1c4f__";
    static final String UNCHANGED = new String("unchanged");
    private static final byte[] PLACEHOLDER_BYTES = PLACEHOLDER.getBytes(StandardCharsets.UTF_8);

    private ValueText() {}

    static String text(Object value, Schema schema, String table, String column) {
        if (value == null) {
            return null;
        }
        String semantic = schema == null ? null : schema.name();
        if (value instanceof String s) {
            return PLACEHOLDER.equals(s) ? UNCHANGED : s;
        }
        if (value instanceof ByteBuffer buffer) {
            byte[] bytes = new byte[buffer.remaining()];
            buffer.duplicate().get(bytes);
            return bytea(bytes);
        }
        if (value instanceof byte[] bytes) {
            return bytea(bytes);
        }
        if (value instanceof List<?> list) {
            if (list.size() == 1 && PLACEHOLDER.equals(list.get(0))) {
                return UNCHANGED;
            }
            return arrayLiteral(list, schema == null ? null : schema.valueSchema(), table, column);
        }
        if (semantic != null) {
            switch (semantic) {
                case "io.debezium.time.Date":
                    return LocalDate.ofEpochDay(((Number) value).longValue()).toString();
                case "io.debezium.time.MicroTimestamp":
                    return Instant.EPOCH.plusNanos(((Number) value).longValue() * 1000).atOffset(ZoneOffset.UTC).toLocalDateTime().toString();
                case "io.debezium.time.Timestamp":
                    return Instant.ofEpochMilli(((Number) value).longValue()).atOffset(ZoneOffset.UTC).toLocalDateTime().toString();
                case "io.debezium.time.NanoTimestamp":
                    return Instant.EPOCH.plusNanos(((Number) value).longValue()).atOffset(ZoneOffset.UTC).toLocalDateTime().toString();
                default:
                    break;
            }
        }
        if (value instanceof Number || value instanceof Boolean) {
            return value.toString();
        }
        throw new IllegalArgumentException("column tandem." + table + "." + column + " has a value of type " + value.getClass().getName()
                + (semantic == null ? "" : " (" + semantic + ")") + " that the replicator cannot carry");
    }

    private static String bytea(byte[] bytes) {
        if (Arrays.equals(bytes, PLACEHOLDER_BYTES)) {
            return UNCHANGED;
        }
        return "\\x" + HexFormat.of().formatHex(bytes);
    }

    /** PostgreSQL's array literal: every element double-quoted, NULL for null. */
    private static String arrayLiteral(List<?> list, Schema elementSchema, String table, String column) {
        StringBuilder out = new StringBuilder("{");
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            String element = text(list.get(i), elementSchema, table, column);
            if (element == null) {
                out.append("NULL");
            } else {
                out.append('"');
                for (int c = 0; c < element.length(); c++) {
                    char ch = element.charAt(c);
                    if (ch == '"' || ch == '\\') {
                        out.append('\\');
                    }
                    out.append(ch);
                }
                out.append('"');
            }
        }
        return out.append('}').toString();
    }
}
