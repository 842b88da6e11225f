package dev.tandem.replicator.failback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes pgoutput messages (protocol version 1, text values) as PostgreSQL's
 * {@code pg_logical_slot_peek_binary_changes} returns them, into whole transactions. Only what the
 * divergence report needs: begin, relation, insert, update, delete, truncate and commit.
 */
public final class PgOutputDecoder {
    /** A decoded transaction: its commit record's position ({@code finalLsn}), its end, its rows. */
    public record Transaction(long xid, long finalLsn, long endLsn, Instant committedAt, List<Change> changes) {
        public boolean onlyTable(String table) {
            return !changes.isEmpty() && changes.stream().allMatch(c -> c.table().equals(table));
        }
    }

    /** One row change: operation (insert, update, delete, truncate), the row's key and values as text. */
    public record Change(String table, String operation, Map<String, String> key, Map<String, String> values) {}

    private record Relation(String schema, String name, List<String> columns, List<Boolean> keyColumns) {}

    private static final long PG_EPOCH_MICROS = 946_684_800_000_000L; // 2000-01-01 in Unix microseconds

    private final Map<Integer, Relation> relations = new HashMap<>();
    private final List<Transaction> transactions = new ArrayList<>();
    private long xid;
    private long finalLsn;
    private Instant committedAt;
    private List<Change> changes;

    /** Feeds one message; a commit completes a transaction. */
    public void accept(byte[] message) {
        ByteBuffer b = ByteBuffer.wrap(message);
        char type = (char) b.get();
        switch (type) {
            case 'B' -> {
                finalLsn = b.getLong();
                committedAt = timestamp(b.getLong());
                xid = Integer.toUnsignedLong(b.getInt());
                changes = new ArrayList<>();
            }
            case 'R' -> {
                int id = b.getInt();
                String schema = cstring(b);
                String name = cstring(b);
                b.get(); // replica identity setting
                int count = Short.toUnsignedInt(b.getShort());
                List<String> columns = new ArrayList<>();
                List<Boolean> keys = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    keys.add((b.get() & 1) == 1);
                    columns.add(cstring(b));
                    b.getInt(); // type oid
                    b.getInt(); // type modifier
                }
                relations.put(id, new Relation(schema, name, columns, keys));
            }
            case 'I' -> {
                Relation r = relation(b.getInt());
                b.get(); // 'N'
                Map<String, String> values = tuple(b, r);
                changes.add(new Change(r.name(), "insert", keyOf(r, values), values));
            }
            case 'U' -> {
                Relation r = relation(b.getInt());
                char kind = (char) b.get();
                Map<String, String> old = null;
                if (kind == 'K' || kind == 'O') {
                    old = tuple(b, r);
                    b.get(); // 'N'
                }
                Map<String, String> values = tuple(b, r);
                changes.add(new Change(r.name(), "update", old != null ? keyOf(r, old) : keyOf(r, values), values));
            }
            case 'D' -> {
                Relation r = relation(b.getInt());
                b.get(); // 'K' or 'O'
                Map<String, String> old = tuple(b, r);
                changes.add(new Change(r.name(), "delete", keyOf(r, old), Map.of()));
            }
            case 'T' -> {
                int count = b.getInt();
                b.get(); // options
                for (int i = 0; i < count; i++) {
                    Relation r = relation(b.getInt());
                    changes.add(new Change(r.name(), "truncate", Map.of(), Map.of()));
                }
            }
            case 'C' -> {
                b.get(); // flags
                long commitLsn = b.getLong();
                long endLsn = b.getLong();
                Instant at = timestamp(b.getLong());
                transactions.add(new Transaction(xid, commitLsn != 0 ? commitLsn : finalLsn, endLsn, at, List.copyOf(changes)));
                changes = null;
            }
            default -> {
                // origin, type and logical messages carry nothing the report lists
            }
        }
    }

    public List<Transaction> transactions() {
        return transactions;
    }

    private Relation relation(int id) {
        Relation r = relations.get(id);
        if (r == null) {
            throw new IllegalStateException("pgoutput sent a change for relation " + id + " before describing it");
        }
        return r;
    }

    private static Map<String, String> tuple(ByteBuffer b, Relation r) {
        int count = Short.toUnsignedInt(b.getShort());
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            char kind = (char) b.get();
            String column = i < r.columns().size() ? r.columns().get(i) : "column" + i;
            switch (kind) {
                case 'n' -> values.put(column, null);
                case 'u' -> { } // an unchanged large value: not sent, not listed
                case 't', 'b' -> {
                    byte[] data = new byte[b.getInt()];
                    b.get(data);
                    values.put(column, kind == 't' ? new String(data, StandardCharsets.UTF_8) : "\\x" + hex(data));
                }
                default -> throw new IllegalStateException("unknown pgoutput tuple value kind '" + kind + "'");
            }
        }
        return values;
    }

    private static Map<String, String> keyOf(Relation r, Map<String, String> values) {
        Map<String, String> key = new LinkedHashMap<>();
        for (int i = 0; i < r.columns().size(); i++) {
            if (r.keyColumns().get(i) && values.containsKey(r.columns().get(i))) {
                key.put(r.columns().get(i), values.get(r.columns().get(i)));
            }
        }
        return key;
    }

    private static String cstring(ByteBuffer b) {
        int start = b.position();
        while (b.get() != 0) {
            // to the terminating zero
        }
        return new String(b.array(), start, b.position() - start - 1, StandardCharsets.UTF_8);
    }

    private static Instant timestamp(long pgMicros) {
        long micros = pgMicros + PG_EPOCH_MICROS;
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000), Math.floorMod(micros, 1_000_000) * 1000L);
    }

    private static String hex(byte[] data) {
        StringBuilder s = new StringBuilder();
        for (byte x : data) {
            s.append(String.format("%02x", x));
        }
        return s.toString();
    }
}
