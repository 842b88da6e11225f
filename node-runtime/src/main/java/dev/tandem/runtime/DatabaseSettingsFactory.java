package dev.tandem.runtime;

import dev.tandem.kernel.db.DatabaseSettings;
import java.nio.file.Path;

/** Converts the configuration bean into settings, once. */
public final class DatabaseSettingsFactory {
    private DatabaseSettingsFactory() {}

    public static DatabaseSettings from(TandemConfiguration.DatabaseFactory db) {
        return new DatabaseSettings(db.embedded, db.url, db.user, db.password, db.maxPoolSize,
                db.connectionTimeout.toJavaDuration(), Path.of(db.embeddedServer.dataDir), db.embeddedServer.port,
                db.embeddedServer.fsync);
    }
}
