package dev.tandem.runtime.execution;

import java.nio.file.Path;
import java.time.Duration;

/** How this member runs executions. */
public record ExecutionSettings(int threads, Duration killGrace, Path workDir, String memberId, String nodeName) {}
