package dev.tandem.kernel.db;

import java.nio.file.Path;
import java.time.Duration;

/** How to reach this site's PostgreSQL, or how to run an embedded one. */
public record DatabaseSettings(
        boolean embedded,
        String url,
        String user,
        String password,
        int maxPoolSize,
        Duration connectionTimeout,
        Path embeddedDataDir,
        int embeddedPort,
        boolean embeddedFsync) {

    @Override
    public String toString() {
        return embedded
                ? "embedded PostgreSQL in " + embeddedDataDir + " (port " + (embeddedPort == 0 ? "any" : embeddedPort)
                        + ", fsync " + (embeddedFsync ? "on" : "off") + "), pool " + maxPoolSize
                : url + " as " + user + ", pool " + maxPoolSize;
    }
}
