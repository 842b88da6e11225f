package dev.tandem.runtime.job;

import dev.tandem.runtime.refusal.Refusal;
import java.util.List;

/** An import refused as a whole: nothing of it was written. */
public final class JobImportException extends RuntimeException {
    private final Refusal.Kind kind;
    private final List<ImportProblem> problems;

    public JobImportException(Refusal.Kind kind, List<ImportProblem> problems) {
        super(problems.get(0).message() + " at " + problems.get(0).where());
        this.kind = kind;
        this.problems = List.copyOf(problems);
    }

    public static JobImportException of(Refusal.Kind kind, String message, String where) {
        return new JobImportException(kind, List.of(new ImportProblem(message, where)));
    }

    public Refusal.Kind kind() {
        return kind;
    }

    public List<ImportProblem> problems() {
        return problems;
    }
}
