package dev.tandem.runtime.execution;

import java.util.Locale;

/** Rundeck's execution states. Every state but {@code RUNNING} is final. */
public enum ExecutionStatus {
    RUNNING, SUCCEEDED, FAILED, ABORTED, TIMEDOUT, INCOMPLETE;

    public String sql() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ExecutionStatus parse(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT));
    }
}
