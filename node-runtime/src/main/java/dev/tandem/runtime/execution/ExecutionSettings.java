package dev.tandem.runtime.execution;

import java.nio.file.Path;
import java.time.Duration;

/** How this member runs executions; {@code maxNodeThreads} caps one execution's nodes at once, whatever its threadcount. */
public record ExecutionSettings(int threads, Duration killGrace, Path workDir, String memberId, String nodeName, int maxNodeThreads) {}
