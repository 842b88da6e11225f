package dev.tandem.runtime.execution;

/** How a step ended: success, or failure with the reason a user reads. */
record StepResult(boolean success, String reason) {
    static final StepResult OK = new StepResult(true, null);

    static StepResult failed(String reason) {
        return new StepResult(false, reason);
    }
}
