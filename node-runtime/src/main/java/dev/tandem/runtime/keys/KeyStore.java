package dev.tandem.runtime.keys;

import dev.tandem.kernel.db.Ids;
import dev.tandem.kernel.site.SiteGate;
import dev.tandem.runtime.refusal.Refusal;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passwords, private and public keys under paths like {@code keys/project/web/id_rsa}, encrypted
 * at rest. Password and private-key values leave this class only towards executions on this
 * runtime ({@link #secret}); the API reads public keys only.
 */
public final class KeyStore {
    private static final Logger LOG = LoggerFactory.getLogger(KeyStore.class);
    private static final Pattern PATH = Pattern.compile("keys(/[A-Za-z0-9_.@\\-]+)+");
    private static final String META = "path, key_type, size_bytes, created_by, created_at, updated_at";
    public static final int MAX_KEY_BYTES = 64 * 1024;

    private final SiteGate gate;
    private final MasterKeys masterKeys;

    public KeyStore(SiteGate gate, MasterKeys masterKeys) {
        this.gate = gate;
        this.masterKeys = masterKeys;
    }

    /** @throws Refusal 400 naming the rule a path breaks */
    public static String checkPath(String path) {
        if (path == null || !PATH.matcher(path).matches() || path.contains("/../") || path.endsWith("/..") || path.contains("/./")) {
            throw Refusal.badRequest("a key path looks like keys/project/web/id_rsa: segments of letters, digits, '_', '.', '@' and '-'", "path");
        }
        return path;
    }

    public KeyMeta create(String path, KeyType type, byte[] value, String user) {
        checkValue(path, value);
        MasterKeys.Sealed sealed = masterKeys.seal(value, path, type);
        return gate.write(h -> {
            if (find(h, path).isPresent()) {
                throw Refusal.conflict("key " + path + " already exists; PUT replaces it");
            }
            h.createUpdate("""
                            INSERT INTO tandem.keys (id, path, key_type, master_key_id, nonce, ciphertext, size_bytes, created_by, created_at, updated_at)
                            VALUES (:id, :path, :type, :mk, :nonce, :ct, :size, :user, now(), now())""")
                    .bind("id", Ids.next()).bind("path", path).bind("type", type.sql()).bind("mk", sealed.masterKeyId())
                    .bind("nonce", sealed.nonce()).bind("ct", sealed.ciphertext()).bind("size", value.length).bind("user", user)
                    .execute();
            LOG.info("Key {} ({}) created by {}", path, type.sql(), user);
            return meta(h, path).orElseThrow();
        });
    }

    public KeyMeta replace(String path, KeyType type, byte[] value, String user) {
        checkValue(path, value);
        MasterKeys.Sealed sealed = masterKeys.seal(value, path, type);
        return gate.write(h -> {
            int rows = h.createUpdate("""
                            UPDATE tandem.keys SET key_type = :type, master_key_id = :mk, nonce = :nonce, ciphertext = :ct,
                                   size_bytes = :size, updated_at = now() WHERE path = :path""")
                    .bind("path", path).bind("type", type.sql()).bind("mk", sealed.masterKeyId())
                    .bind("nonce", sealed.nonce()).bind("ct", sealed.ciphertext()).bind("size", value.length)
                    .execute();
            if (rows == 0) {
                throw Refusal.notFound("key " + path);
            }
            LOG.info("Key {} ({}) replaced by {}", path, type.sql(), user);
            return meta(h, path).orElseThrow();
        });
    }

    public Optional<KeyMeta> meta(String path) {
        return gate.read(h -> meta(h, path));
    }

    /** Keys directly or indirectly under a folder path. */
    public List<KeyMeta> list(String folder) {
        return gate.read(h -> h.createQuery("SELECT " + META + " FROM tandem.keys WHERE path LIKE :prefix ORDER BY path")
                .bind("prefix", folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%")
                .map((rs, ctx) -> meta(rs))
                .list());
    }

    public boolean delete(String path, String user) {
        boolean deleted = gate.write(h -> h.createUpdate("DELETE FROM tandem.keys WHERE path = :path").bind("path", path).execute() == 1);
        if (deleted) {
            LOG.info("Key {} deleted by {}", path, user);
        }
        return deleted;
    }

    /** A public key's content. */
    public byte[] readPublic(String path) {
        Stored stored = gate.read(h -> find(h, path)).orElseThrow(() -> Refusal.notFound("key " + path));
        if (!stored.type().readable()) {
            throw new Refusal(Refusal.Kind.FORBIDDEN, "the value of a " + stored.type().sql() + " key is never returned; only public keys can be read", "path");
        }
        return masterKeys.open(stored.sealed(), path, stored.type());
    }

    /** The value of a key for use inside this runtime (executions, SSH); never for an API response. */
    public Optional<Secret> secret(String path) {
        return gate.read(h -> find(h, path)).map(s -> new Secret(s.type(), masterKeys.open(s.sealed(), path, s.type())));
    }

    /** A decrypted key value. {@code toString} never shows it. */
    public record Secret(KeyType type, byte[] value) {
        public String text() {
            return new String(value, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "Secret[" + type.sql() + ", " + value.length + " bytes]";
        }
    }

    /** Re-encrypts every key not sealed with the current master key; returns how many. */
    public int rotate() {
        String current = masterKeys.currentId().orElseThrow(KeyStorageUnavailableException::new);
        List<String> stale = gate.read(h -> h.createQuery("SELECT path FROM tandem.keys WHERE master_key_id <> :mk ORDER BY path")
                .bind("mk", current).mapTo(String.class).list());
        int rotated = 0;
        for (String path : stale) {
            rotated += gate.write(h -> {
                Optional<Stored> stored = h.createQuery("SELECT path, key_type, master_key_id, nonce, ciphertext FROM tandem.keys WHERE path = :path FOR UPDATE")
                        .bind("path", path).map((rs, ctx) -> stored(rs)).findOne();
                if (stored.isEmpty() || stored.get().sealed().masterKeyId().equals(current)) {
                    return 0;
                }
                byte[] value = masterKeys.open(stored.get().sealed(), path, stored.get().type());
                MasterKeys.Sealed sealed = masterKeys.seal(value, path, stored.get().type());
                java.util.Arrays.fill(value, (byte) 0);
                return h.createUpdate("UPDATE tandem.keys SET master_key_id = :mk, nonce = :nonce, ciphertext = :ct WHERE path = :path")
                        .bind("mk", sealed.masterKeyId()).bind("nonce", sealed.nonce()).bind("ct", sealed.ciphertext()).bind("path", path)
                        .execute();
            });
        }
        if (rotated > 0) {
            LOG.info("Re-encrypted {} key(s) with master key '{}'", rotated, current);
        }
        return rotated;
    }

    private void checkValue(String path, byte[] value) {
        checkPath(path);
        if (value.length == 0) {
            throw Refusal.badRequest("a key needs a value (the request body)", "body");
        }
        if (value.length > MAX_KEY_BYTES) {
            throw new Refusal(Refusal.Kind.TOO_LARGE, "a key value is at most " + MAX_KEY_BYTES + " bytes", "body");
        }
    }

    private record Stored(String path, KeyType type, MasterKeys.Sealed sealed) {}

    private static Optional<Stored> find(Handle h, String path) {
        return h.createQuery("SELECT path, key_type, master_key_id, nonce, ciphertext FROM tandem.keys WHERE path = :path")
                .bind("path", path).map((rs, ctx) -> stored(rs)).findOne();
    }

    private static Stored stored(ResultSet rs) throws SQLException {
        return new Stored(rs.getString(1), KeyType.fromSql(rs.getString(2)),
                new MasterKeys.Sealed(rs.getString(3), rs.getBytes(4), rs.getBytes(5)));
    }

    private static Optional<KeyMeta> meta(Handle h, String path) {
        return h.createQuery("SELECT " + META + " FROM tandem.keys WHERE path = :path").bind("path", path)
                .map((rs, ctx) -> meta(rs)).findOne();
    }

    private static KeyMeta meta(ResultSet rs) throws SQLException {
        KeyType type = KeyType.fromSql(rs.getString(2));
        return new KeyMeta(rs.getString(1), type.sql(), type.contentType(), rs.getInt(3), rs.getString(4),
                rs.getTimestamp(5).toInstant(), rs.getTimestamp(6).toInstant());
    }
}
