package dev.tandem.replicator.capture;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.storage.OffsetBackingStore;
import org.apache.kafka.connect.util.Callback;

/**
 * Debezium's offsets, kept in the captured site's own database ({@code tandem_local.capture_offsets})
 * so a reinstalled replicator host loses nothing. Debezium creates it by class name and passes the
 * engine properties; {@code offset.storage.tandem.url}, {@code .user} and {@code .password} say
 * where to connect.
 */
public final class SiteDatabaseOffsetStore implements OffsetBackingStore {
    static final String URL = "offset.storage.tandem.url";
    static final String USER = "offset.storage.tandem.user";
    static final String PASSWORD = "offset.storage.tandem.password";

    private final Map<ByteBuffer, ByteBuffer> data = new HashMap<>();
    private String url;
    private String user;
    private String password;
    private Connection connection;

    @Override
    public void configure(WorkerConfig config) {
        Map<String, Object> originals = config.originals();
        url = (String) originals.get(URL);
        user = (String) originals.get(USER);
        Object secret = originals.get(PASSWORD);
        password = secret == null ? "" : secret.toString();
        if (url == null) {
            throw new IllegalStateException(URL + " is not set: the capture does not know where to keep its offsets");
        }
    }

    @Override
    public synchronized void start() {
        try (Connection c = connect();
             PreparedStatement ps = c.prepareStatement("SELECT key, value FROM tandem_local.capture_offsets");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                byte[] value = rs.getBytes(2);
                data.put(ByteBuffer.wrap(rs.getBytes(1)), value == null ? null : ByteBuffer.wrap(value));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the capture offsets from tandem_local.capture_offsets: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void stop() {
        // Every set() is already durable; only the connection is left to close.
        closeConnection();
    }

    @Override
    public synchronized Future<Map<ByteBuffer, ByteBuffer>> get(Collection<ByteBuffer> keys) {
        Map<ByteBuffer, ByteBuffer> result = new HashMap<>();
        for (ByteBuffer key : keys) {
            result.put(key, data.get(key));
        }
        return CompletableFuture.completedFuture(result);
    }

    @Override
    public synchronized Future<Void> set(Map<ByteBuffer, ByteBuffer> values, Callback<Void> callback) {
        try (PreparedStatement ps = connection().prepareStatement("""
                     INSERT INTO tandem_local.capture_offsets (key, value, updated_at) VALUES (?, ?, now())
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()""")) {
            for (Map.Entry<ByteBuffer, ByteBuffer> e : values.entrySet()) {
                ps.setBytes(1, bytes(e.getKey()));
                ps.setBytes(2, e.getValue() == null ? null : bytes(e.getValue()));
                ps.addBatch();
            }
            ps.executeBatch();
            data.putAll(values);
            if (callback != null) {
                callback.onCompletion(null, null);
            }
            return CompletableFuture.completedFuture(null);
        } catch (SQLException e) {
            closeConnection(); // reconnect on the next flush
            IllegalStateException failure = new IllegalStateException("cannot store the capture offsets: " + e.getMessage(), e);
            if (callback != null) {
                callback.onCompletion(failure, null);
            }
            return CompletableFuture.failedFuture(failure);
        }
    }

    @Override
    public Set<Map<String, Object>> connectorPartitions(String connectorName) {
        return Set.of();
    }

    /** One connection kept for the flushes (once a second), opened again after a failure. */
    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = connect();
        }
        return connection;
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // already broken
            }
            connection = null;
        }
    }

    private Connection connect() throws SQLException {
        Connection c = DriverManager.getConnection(url, user, password);
        c.setAutoCommit(true);
        return c;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
