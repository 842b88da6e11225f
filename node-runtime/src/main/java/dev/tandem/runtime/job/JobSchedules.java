package dev.tandem.runtime.job;

import java.util.UUID;
import org.jdbi.v3.core.Handle;

/**
 * Keeps a job's schedule in step with its stored definition, in the transaction that saves or
 * deletes the job, so a schedule never outlives its job nor misses its change. The cluster's
 * schedule store implements it; the job store need not know how schedules are owned and fired.
 */
public interface JobSchedules {
    /** After {@code job} was created or changed by {@code member} (who then owns its schedule). */
    void saved(Handle h, UUID jobId, JobDefinition job, String member);

    /** Before the job is deleted. */
    void deleted(Handle h, UUID jobId);
}
