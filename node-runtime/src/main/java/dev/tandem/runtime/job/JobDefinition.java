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
        NodeDispatch nodes,
        String cron,
        boolean scheduleEnabled,
        String timeZone,
        String loglimit,
        String loglimitAction,
        String loglimitStatus) {

    /** Whether the job fires on its own: it has a schedule and neither its schedule nor execution is switched off. */
    public boolean scheduled() {
        return cron != null && scheduleEnabled && executionEnabled;
    }

    /**
     * Whether {@code other} fires at the same times as this: the same cron and time zone, switched
     * on or off alike. An edit that keeps the schedule keeps its next fire time and its history.
     */
    public boolean firesLike(JobDefinition other) {
        return scheduled() == other.scheduled() && java.util.Objects.equals(cron, other.cron)
                && java.util.Objects.equals(timeZone, other.timeZone);
    }

    /** Whether the node steps run on nodes selected by a filter rather than on the runtime's own host. */
    public boolean dispatched() {
        return nodes != null;
    }

    public String fullName() {
        return group.isEmpty() ? name : group + "/" + name;
    }
}
