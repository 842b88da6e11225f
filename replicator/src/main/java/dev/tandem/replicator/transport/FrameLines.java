package dev.tandem.replicator.transport;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * The direct stream read line by line as bytes: one frame per line (JSON is decoded from the bytes
 * as they came, without turning them into characters first), an empty line is a keepalive.
 */
final class FrameLines implements AutoCloseable {
    private final InputStream in;
    private final byte[] chunk = new byte[1 << 16];
    private int chunkStart;
    private int chunkEnd;
    private byte[] line = new byte[1 << 16];
    private int length;

    FrameLines(InputStream in) {
        this.in = in;
    }

    /** Reads the next line; false at the end of the stream (a partial last line is dropped: it was cut). */
    boolean next() throws IOException {
        length = 0;
        while (true) {
            for (int i = chunkStart; i < chunkEnd; i++) {
                if (chunk[i] == '\n') {
                    append(chunkStart, i);
                    chunkStart = i + 1;
                    if (length > 0 && line[length - 1] == '\r') {
                        length--; // a proxy may end lines with CRLF
                    }
                    return true;
                }
            }
            append(chunkStart, chunkEnd);
            chunkStart = 0;
            chunkEnd = in.read(chunk);
            if (chunkEnd < 0) {
                chunkEnd = 0;
                return false;
            }
        }
    }

    private void append(int from, int to) {
        int n = to - from;
        if (length + n > line.length) {
            line = Arrays.copyOf(line, Math.max(line.length * 2, length + n));
        }
        System.arraycopy(chunk, from, line, length, n);
        length += n;
    }

    /** The current line's bytes: the first {@link #length()} of them. */
    byte[] buffer() {
        return line;
    }

    int length() {
        return length;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
