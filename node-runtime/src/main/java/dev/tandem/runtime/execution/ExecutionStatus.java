package dev.tandem.runtime.execution;

import java.util.Locale;

/** Rundeck's execution states. Every state but {@code RUNNING} is final. */
public enum ExecutionStatus {
    RUNNING, SUCCEEDED, FAILED, FAILED_WITH_RETRY, ABORTED, TIMEDOUT, INCOMPLETE;

    public String sql() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static ExecutionStatus parse(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
    }
}
