package dev.tandem.runtime.job;

import java.util.Optional;

/** One workflow step, as run by an executor. */
public sealed interface Step {
    String description();

    Optional<Step> errorHandler();

    /** For an error handler: continue the workflow when the handler succeeds, even without keepgoing. */
    boolean keepgoingOnSuccess();

    record Exec(String command, String description, Optional<Step> errorHandler, boolean keepgoingOnSuccess) implements Step {}

    record Script(String script, String args, String interpreter, boolean argsQuoted, String fileExtension,
                  String description, Optional<Step> errorHandler, boolean keepgoingOnSuccess) implements Step {}

    record ScriptFile(String path, String args, String interpreter, boolean argsQuoted,
                      String description, Optional<Step> errorHandler, boolean keepgoingOnSuccess) implements Step {}

    /**
     * Runs another job. A workflow step (once, on the referenced job's own nodes) unless
     * {@code nodeStep}: then once per node of this workflow, with the referenced job's node steps on
     * that node. {@code nodeFilter} (the jobref's own {@code nodefilters.filter}) replaces the
     * referenced job's filter.
     */
    record JobRef(String name, String group, String uuid, String project, String args, boolean nodeStep, String nodeFilter,
                  String description, Optional<Step> errorHandler, boolean keepgoingOnSuccess) implements Step {}

    /**
     * {@code type: tandem-noop}: a built-in step that does nothing but log one line, so a run goes
     * through the whole execution lifecycle without a process (benchmarks, smoke checks).
     */
    record Noop(String description, Optional<Step> errorHandler, boolean keepgoingOnSuccess) implements Step {
        public static final String TYPE = "tandem-noop";
    }

    /** A step type Tandem stores and exports but cannot run; running it fails with this reason. */
    record Unsupported(String type, String description, Optional<Step> errorHandler, boolean keepgoingOnSuccess) implements Step {}
}
