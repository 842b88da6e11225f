package dev.tandem.runtime.job;

import java.util.List;

/** An import refused as a whole: nothing of it was written. */
public final class JobImportException extends RuntimeException {
    private final int status;
    private final List<ImportProblem> problems;

    public JobImportException(int status, List<ImportProblem> problems) {
        super(problems.get(0).message() + " at " + problems.get(0).where());
        this.status = status;
        this.problems = List.copyOf(problems);
    }

    public static JobImportException of(int status, String message, String where) {
        return new JobImportException(status, List.of(new ImportProblem(message, where)));
    }

    public int status() {
        return status;
    }

    public List<ImportProblem> problems() {
        return problems;
    }
}
