package dev.tandem.replicator.capture;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How this site's changes are captured.
 *
 * @param siteId the site whose database is captured
 * @param jdbcUrl the database's JDBC URL, with its parameters (sslmode and the like)
 * @param host database host
 * @param port database port
 * @param database database name
 * @param user a user with the REPLICATION attribute (or superuser)
 * @param password its password
 * @param slot the logical replication slot
 * @param publication the publication over schema {@code tandem}
 * @param pollInterval how often Debezium looks for decoded changes
 * @param offsetFlushInterval how often the slot's confirmed position may move
 * @param maxFrameRows rows per frame (a larger transaction spans several frames)
 * @param ssl the URL's TLS parameters ({@code sslmode}, {@code sslrootcert}, {@code sslcert},
 *     {@code sslkey}, {@code sslpassword}), which the replication connection uses too
 */
public record CaptureSettings(String siteId, String jdbcUrl, String host, int port, String database, String user, String password,
                              String slot, String publication, Duration pollInterval, Duration offsetFlushInterval,
                              int maxFrameRows, Map<String, String> ssl) {
    private static final java.util.Set<String> SSL_PARAMETERS = java.util.Set.of("sslmode", "sslrootcert", "sslcert", "sslkey",
            "sslpassword");

    /** Settings for the database at {@code jdbcUrl} ({@code jdbc:postgresql://host[:port]/database[?parameters]}). */
    public static CaptureSettings of(String siteId, String jdbcUrl, String user, String password, String slot, String publication,
                                     Duration pollInterval, Duration offsetFlushInterval, int maxFrameRows) {
        URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
        String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        if (uri.getHost() == null || path.isEmpty()) {
            throw new IllegalArgumentException("database.url must name a host and a database: " + jdbcUrl);
        }
        Map<String, String> ssl = new LinkedHashMap<>();
        if (uri.getRawQuery() != null) {
            for (String pair : uri.getRawQuery().split("&")) {
                int equals = pair.indexOf('=');
                String name = equals < 0 ? pair : pair.substring(0, equals);
                if (SSL_PARAMETERS.contains(name)) {
                    ssl.put(name, URLDecoder.decode(equals < 0 ? "" : pair.substring(equals + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return new CaptureSettings(siteId, jdbcUrl, uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), path, user, password,
                slot, publication, pollInterval, offsetFlushInterval, maxFrameRows, Map.copyOf(ssl));
    }
}
