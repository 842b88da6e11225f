package dev.tandem.runtime.logs;

/** Appends the lines of one execution; thread safe (stdout and stderr readers share it). */
public interface LogWriter extends AutoCloseable {
    void append(LogEntry entry);

    @Override
    void close();
}
