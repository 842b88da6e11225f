package dev.tandem.runtime.logs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.UUID;

/** Reads whole JSON lines of a log from a stream, counting bytes so the caller knows where the next read starts. */
final class LogLines {
    static final int MAX_LINE_BYTES = 1 << 20;
    /** A page stops after this many bytes (after at least one line), whatever the line count asked for. */
    static final long MAX_PAGE_BYTES = 2L << 20;

    private LogLines() {}

    /**
     * Appends up to {@code max - into.size()} entries read from {@code in} to {@code into};
     * returns the number of bytes consumed (whole lines only).
     */
    static long read(InputStream stream, List<LogEntry> into, int max, ObjectMapper mapper, UUID executionId) throws IOException {
        return read(stream, into, max, MAX_PAGE_BYTES, mapper, executionId);
    }

    /** As above, stopping once {@code budget} bytes were consumed (a page of long lines stays bounded in memory). */
    static long read(InputStream stream, List<LogEntry> into, int max, long budget, ObjectMapper mapper, UUID executionId) throws IOException {
        long consumed = 0;
        try (InputStream in = new BufferedInputStream(stream, 65536)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(256);
            long lineBytes = 0;
            int b;
            while (into.size() < max && consumed < budget && (b = in.read()) != -1) {
                lineBytes++;
                if (b == '\n') {
                    if (line.size() < MAX_LINE_BYTES) {
                        into.add(parse(line.toByteArray(), mapper, executionId));
                    } else {
                        into.add(new LogEntry(null, "", "", "tandem", "WARN", "a log line of " + lineBytes + " bytes was too long to show"));
                    }
                    consumed += lineBytes;
                    lineBytes = 0;
                    line.reset();
                } else if (line.size() < MAX_LINE_BYTES) {
                    line.write(b);
                }
            }
        }
        return consumed;
    }

    private static LogEntry parse(byte[] line, ObjectMapper mapper, UUID executionId) {
        try {
            return mapper.readValue(line, LogEntry.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the log of execution " + executionId + " has a damaged line: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
