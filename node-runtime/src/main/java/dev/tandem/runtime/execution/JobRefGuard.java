package dev.tandem.runtime.execution;

import java.util.Optional;

/**
 * Decides whether a run may cross into another project through a job reference: the user on
 * whose behalf the run goes (its starter; for a scheduled run, the user who last saved the job)
 * needs {@code run} on the referenced job's project, checked when the step runs (grants change).
 */
public interface JobRefGuard {
    /** Why {@code user} may not run jobs of {@code project}, or empty when they may. */
    Optional<String> refusal(String user, String project);
}
