package dev.tandem.runtime.logs;

import java.time.Instant;

/** One line an execution printed: when, on which node, in which step, on which stream, at what level. */
public record LogEntry(Instant time, String node, String step, String stream, String level, String log) {}
