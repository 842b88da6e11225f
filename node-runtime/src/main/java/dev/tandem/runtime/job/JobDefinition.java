package dev.tandem.runtime.job;

import java.util.List;

/**
 * The typed view of a stored job document that executions run. Built only from documents that
 * {@link JobValidator} accepted.
 */
public record JobDefinition(
        String name,
        String group,
        String uuid,
        String loglevel,
        boolean keepgoing,
        String strategy,
        List<Step> steps,
        List<JobOption> options,
        String timeout,
        boolean multipleExecutions,
        boolean executionEnabled,
        String retry,
        String retryDelay,
        String nodeFilter) {

    public String fullName() {
        return group.isEmpty() ? name : group + "/" + name;
    }
}
