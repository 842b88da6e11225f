package dev.tandem.runtime.keys;

import java.util.Arrays;
import java.util.Optional;

/** What a stored key is; the content type is Rundeck's key-storage API convention. */
public enum KeyType {
    PASSWORD("password", "application/x-rundeck-data-password", false),
    PRIVATE("private", "application/octet-stream", false),
    PUBLIC("public", "application/pgp-keys", true);

    private final String sql;
    private final String contentType;
    private final boolean readable;

    KeyType(String sql, String contentType, boolean readable) {
        this.sql = sql;
        this.contentType = contentType;
        this.readable = readable;
    }

    public String sql() {
        return sql;
    }

    public String contentType() {
        return contentType;
    }

    /** Only public keys may ever be read back through the API. */
    public boolean readable() {
        return readable;
    }

    public static KeyType fromSql(String value) {
        return Arrays.stream(values()).filter(t -> t.sql.equals(value)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown key type " + value));
    }

    public static Optional<KeyType> fromContentType(String contentType) {
        if (contentType == null) {
            return Optional.empty();
        }
        String bare = contentType.split(";")[0].trim();
        return Arrays.stream(values()).filter(t -> t.contentType.equalsIgnoreCase(bare)).findFirst();
    }
}
