package dev.tandem.runtime.execution;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How this member runs executions; {@code maxNodeThreads} caps one execution's nodes at once,
 * whatever its threadcount; {@code defaultLogLimit} bounds the output of a job that sets no
 * {@code loglimit} (empty: none), truncating rather than halting.
 */
public record ExecutionSettings(int threads, Duration killGrace, Path workDir, String memberId, String nodeName, int maxNodeThreads,
                                String defaultLogLimit, LocalSteps localSteps) {

    /**
     * Steps on the Tandem host itself: allowed or not ({@code execution.localSteps}), and as whom
     * ({@code execution.localUser}; null: the runtime's own user).
     */
    public record LocalSteps(boolean enabled, StepUser user) {}
}
