package dev.tandem.runtime.logs;

import java.util.List;

/**
 * Lines read from {@code offset}; {@code nextOffset} is where the next read continues.
 * {@code sealed}: the log is complete (its writer closed), so nothing will follow {@code totalSize}.
 */
public record LogPage(List<LogEntry> entries, long offset, long nextOffset, long totalSize, boolean sealed) {}
