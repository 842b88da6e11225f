package dev.tandem.replicator.transport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The wire form of a frame: one JSON document (one line on the direct stream, one Kafka record). */
public final class Frames {
    private static final ObjectMapper JSON = new ObjectMapper();

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
