package dev.tandem.runtime.execution;

import java.util.Locale;

/** Rundeck's execution states, plus {@code queued} (forwarded to another member) and {@code missed} (a fire time that could not start). */
public enum ExecutionStatus {
    QUEUED, RUNNING, SUCCEEDED, FAILED, FAILED_WITH_RETRY, ABORTED, TIMEDOUT, INCOMPLETE, MISSED;

    public boolean isFinal() {
        return this != QUEUED && this != RUNNING;
    }

    public String sql() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static ExecutionStatus parse(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
    }
}
