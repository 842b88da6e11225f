package dev.tandem.replicator.transport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

import dev.tandem.replicator.stream.Frame;
/** The wire form of a frame: one JSON document (one line on the direct stream, one Kafka record). */
public final class Frames {
    /**
     * No limit on a value's length (Jackson's default stops at 20 million characters): a frame
     * carries any value PostgreSQL held, and one the passive site could not read would stop
     * replication for good. What one request may store is bounded in the runtime instead.
     */
    private static final ObjectMapper JSON = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                    .maxStringLength(Integer.MAX_VALUE).maxDocumentLength(-1).build())
            .build());

    private Frames() {}

    public static byte[] encode(Frame frame) {
        try {
            return JSON.writeValueAsBytes(frame);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode frame of transaction " + frame.xid(), e);
        }
    }

    public static Frame decode(byte[] bytes) {
        try {
            return JSON.readValue(bytes, Frame.class);
        } catch (IOException e) {
            throw new UncheckedIOException("malformed replication frame: " + e.getMessage(), e);
        }
    }

    /** Decodes the first {@code length} bytes of {@code bytes}. */
    public static Frame decode(byte[] bytes, int length) {
        try {
            return JSON.readValue(bytes, 0, length, Frame.class);
        } catch (IOException e) {
            throw new UncheckedIOException("malformed replication frame: " + e.getMessage(), e);
        }
    }

    public static Frame decode(String line) {
        try {
            return JSON.readValue(line, Frame.class);
        } catch (IOException e) {
            throw new UncheckedIOException("malformed replication frame: " + e.getMessage(), e);
        }
    }
}
