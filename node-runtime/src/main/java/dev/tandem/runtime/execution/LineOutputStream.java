package dev.tandem.runtime.execution;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Turns a byte stream (a process's or a remote command's output) into lines, as they arrive.
 * Lines longer than {@code maxBytes} are split at a UTF-8 character boundary, so one endless
 * line cannot exhaust memory; a trailing carriage return is dropped.
 */
final class LineOutputStream extends OutputStream {
    private final Consumer<String> lines;
    private final int maxBytes;
    private byte[] buffer = new byte[256];
    private int length;
    private boolean closed;

    LineOutputStream(int maxBytes, Consumer<String> lines) {
        this.maxBytes = maxBytes;
        this.lines = lines;
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            emit(length, true);
            return;
        }
        // Split only when a byte arrives for a full buffer, so a line of exactly maxBytes ends normally at its newline.
        if (length >= maxBytes) {
            emit(boundary(), false);
        }
        if (length == buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.min(buffer.length * 2, maxBytes + 4));
        }
        buffer[length++] = (byte) b;
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int count) {
        for (int i = offset; i < offset + count; i++) {
            write(bytes[i]);
        }
    }

    /** Emits what is left as a last line. */
    @Override
    public synchronized void close() {
        if (!closed && length > 0) {
            emit(length, true);
        }
        closed = true;
    }

    /** The end of the last whole UTF-8 character in the buffer (never 0, so a split always makes progress). */
    private int boundary() {
        int end = length;
        int back = 0;
        while (back < 3 && end - back - 1 >= 0 && (buffer[end - back - 1] & 0xC0) == 0x80) {
            back++;
        }
        int lead = end - back - 1;
        if (lead >= 0 && (buffer[lead] & 0x80) != 0) {
            int need = (buffer[lead] & 0xE0) == 0xC0 ? 2 : (buffer[lead] & 0xF0) == 0xE0 ? 3 : 4;
            if (back + 1 < need && lead > 0) {
                return lead;
            }
        }
        return end;
    }

    /** Emits the first {@code end} bytes; a carriage return is dropped only before a real line end. */
    private void emit(int end, boolean lineEnd) {
        int text = lineEnd && end > 0 && buffer[end - 1] == '\r' ? end - 1 : end;
        lines.accept(new String(buffer, 0, text, StandardCharsets.UTF_8));
        int rest = length - end;
        System.arraycopy(buffer, end, buffer, 0, rest);
        length = rest;
    }
}
