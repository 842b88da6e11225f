package dev.tandem.runtime.health;

import com.codahale.metrics.health.HealthCheck;
import dev.tandem.runtime.logs.SpoolingLogStorage;

/**
 * Healthy when shared log storage takes a probe and no upload is failing. While uploads fail,
 * executions go on (their output waits in the local spool); this check turns red and says how
 * much is waiting, since when, and why.
 */
public final class LogStorageHealthCheck extends HealthCheck {
    private final SpoolingLogStorage storage;

    public LogStorageHealthCheck(SpoolingLogStorage storage) {
        this.storage = storage;
    }

    @Override
    protected Result check() {
        SpoolingLogStorage.Backlog backlog = storage.backlog();
        if (backlog.failing() > 0) {
            return Result.unhealthy(backlog.failing() + " log(s) cannot be uploaded to " + storage.describe() + " since " + backlog.failingSince()
                    + " (" + backlog.lastError() + "); " + backlog.bytes() + " bytes of " + backlog.logs()
                    + " log(s) wait in the local spool and are uploaded when storage is back");
        }
        storage.probe();
        return Result.healthy(storage.describe() + " writable; " + backlog.logs() + " log(s) open or uploading, "
                + backlog.bytes() + " bytes not yet stored");
    }
}
