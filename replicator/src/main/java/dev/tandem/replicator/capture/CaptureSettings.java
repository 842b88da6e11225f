package dev.tandem.replicator.capture;

import java.time.Duration;

/**
 * How this site's changes are captured.
 *
 * @param siteId the site whose database is captured
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
 */
public record CaptureSettings(String siteId, String host, int port, String database, String user, String password,
                              String slot, String publication, Duration pollInterval, Duration offsetFlushInterval,
                              int maxFrameRows) {

    public String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }
}
