package dev.tandem.runtime.health;

import com.codahale.metrics.health.HealthCheck;
import dev.tandem.runtime.logs.LogStorage;

/** Healthy when a probe can be written to and removed from log storage. */
public final class LogStorageHealthCheck extends HealthCheck {
    private final LogStorage storage;

    public LogStorageHealthCheck(LogStorage storage) {
        this.storage = storage;
    }

    @Override
    protected Result check() {
        storage.probe();
        return Result.healthy("log storage writable");
    }
}
