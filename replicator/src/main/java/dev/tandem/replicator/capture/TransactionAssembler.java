package dev.tandem.replicator.capture;

import dev.tandem.replicator.stream.Frame;
import dev.tandem.replicator.stream.RowChange;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Cuts Debezium's record stream (transaction BEGIN, row changes, END) into frames of at most
 * {@code maxRows} rows or about {@link #MAX_FRAME_BYTES} (a single larger row travels alone).
 * The END record closes the transaction and gives its commit position.
 */
final class TransactionAssembler {
    /**
     * A finished frame, and for the last frame of a transaction the record whose offset ends it and
     * the transaction's row count.
     */
    record Assembled(Frame frame, SourceRecord endRecord, long transactionRows) {
        Assembled(Frame frame) {
            this(frame, null, 0);
        }
    }

    private final String site;
    private final LongSupplier epoch;
    static final long MAX_FRAME_BYTES = 1024 * 1024;
    private final int maxRows;
    private long frameBytes;
    private long xid = -1;
    private long previousCommit;
    private int seq;
    private long transactionRows;
    private List<RowChange> rows = new ArrayList<>();

    TransactionAssembler(String site, LongSupplier epoch, int maxRows, long resumedAfter) {
        this.site = site;
        this.previousCommit = resumedAfter;
        this.epoch = epoch;
        this.maxRows = maxRows;
    }

    /** Feeds one record; returns the frames it completes (usually none or one). */
    List<Assembled> accept(SourceRecord record) {
        String topic = record.topic();
        if (topic.startsWith("__debezium-heartbeat")) {
            return List.of();
        }
        Struct value = (Struct) record.value();
        if (value == null) {
            return List.of();
        }
        if (topic.endsWith(".transaction")) {
            return boundary(record, value);
        }
        List<Assembled> out = new ArrayList<>(1);
        RowChange change = change(value, (Struct) record.key());
        long size = change.sizeEstimate();
        if (!rows.isEmpty() && frameBytes + size > MAX_FRAME_BYTES) {
            out.add(new Assembled(frame(false, null, 0)));
        }
        rows.add(change);
        transactionRows++;
        frameBytes += size;
        if (rows.size() >= maxRows) {
            out.add(new Assembled(frame(false, null, 0)));
        }
        return out;
    }

    private List<Assembled> boundary(SourceRecord record, Struct value) {
        String status = value.getString("status");
        String id = value.getString("id");
        long txId = Long.parseLong(id.substring(0, id.indexOf(':')));
        if ("BEGIN".equals(status)) {
            xid = txId;
            seq = 0;
            transactionRows = 0;
            rows = new ArrayList<>();
            frameBytes = 0;
            return List.of();
        }
        if (txId != xid) {
            throw new IllegalStateException("transaction " + txId + " ended but transaction " + xid + " was open");
        }
        Object commit = record.sourceOffset().get("lsn_commit");
        if (!(commit instanceof Long commitLsn)) {
            throw new IllegalStateException("transaction " + txId + " ended without a commit position in its offset " + record.sourceOffset());
        }
        Long ts = value.getInt64("ts_ms");
        Frame frame = frame(true, commitLsn, ts == null ? 0 : ts);
        xid = -1;
        previousCommit = commitLsn;
        return List.of(new Assembled(frame, record, transactionRows));
    }

    private Frame frame(boolean last, Long commitLsn, long commitMillis) {
        Frame frame = new Frame(site, epoch.getAsLong(), previousCommit, xid, seq++, last, commitLsn, commitMillis, rows);
        rows = new ArrayList<>();
        frameBytes = 0;
        return frame;
    }

    /**
     * What a row of one table looks like: its name, key columns and fields, kept while Debezium hands
     * out the same row schema object (it builds a new one when the table changes).
     */
    private record Shape(String table, List<String> keyColumns, Field[] fields, boolean[] inKey) {}

    private final Map<Schema, Shape> shapes = new IdentityHashMap<>();

    private Shape shape(Struct row, Struct value, Struct key) {
        Shape known = shapes.get(row.schema());
        if (known == null) {
            List<String> keyColumns = key.schema().fields().stream().map(Field::name).toList();
            Field[] fields = row.schema().fields().toArray(new Field[0]);
            boolean[] inKey = new boolean[fields.length];
            for (int i = 0; i < fields.length; i++) {
                inKey[i] = keyColumns.contains(fields[i].name());
            }
            known = new Shape(value.getStruct("source").getString("table"), keyColumns, fields, inKey);
            if (shapes.size() > 10_000) {
                shapes.clear(); // schemas of tables long altered; the live ones come back at once
            }
            shapes.put(row.schema(), known);
        }
        return known;
    }

    private RowChange change(Struct value, Struct key) {
        String op = value.getString("op");
        boolean delete = "d".equals(op);
        Struct row = value.getStruct(delete ? "before" : "after");
        Shape shape = shape(row, value, key);
        Map<String, String> values = new LinkedHashMap<>();
        boolean partial = false;
        Field[] fields = shape.fields();
        for (int i = 0; i < fields.length; i++) {
            if (delete && !shape.inKey()[i]) {
                continue;
            }
            Field f = fields[i];
            String text = ValueText.text(row.get(f), f.schema(), shape.table(), f.name());
            if (text == ValueText.UNCHANGED) {
                partial = true;
            } else {
                values.put(f.name(), text);
            }
        }
        String kind = delete ? RowChange.DELETE : "c".equals(op) ? RowChange.INSERT : RowChange.UPSERT;
        return new RowChange(shape.table(), kind, shape.keyColumns(), values, partial ? Boolean.TRUE : null);
    }
}
