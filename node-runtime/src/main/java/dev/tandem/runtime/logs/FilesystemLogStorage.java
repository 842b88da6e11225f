package dev.tandem.runtime.logs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Logs as JSON lines, one file per execution, in a folder (local, or shared by every member).
 * Offsets are byte positions of line starts, so a reader seeks instead of re-reading the log.
 */
public final class FilesystemLogStorage implements LogStorage {
    private static final int MAX_LINE_BYTES = 1 << 20;

    private final Path root;
    private final ObjectMapper mapper;

    public FilesystemLogStorage(Path root, ObjectMapper mapper) {
        this.root = root;
        this.mapper = mapper;
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the log folder " + root + ": " + e.getMessage(), e);
        }
    }

    private Path file(UUID executionId) {
        return root.resolve(executionId + ".jsonl");
    }

    @Override
    public LogWriter open(UUID executionId) {
        Path path = file(executionId);
        try {
            BufferedWriter out = new BufferedWriter(new OutputStreamWriter(
                    Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND), StandardCharsets.UTF_8));
            return new LogWriter() {
                @Override
                public synchronized void append(LogEntry entry) {
                    try {
                        out.write(mapper.writeValueAsString(entry));
                        out.write('\n');
                        out.flush();
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot write the log of execution " + executionId + " to " + path + ": " + e.getMessage(), e);
                    }
                }

                @Override
                public synchronized void close() {
                    try {
                        out.close();
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot close the log of execution " + executionId + ": " + e.getMessage(), e);
                    }
                }
            };
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the log of execution " + executionId + " in " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public LogPage read(UUID executionId, long offset, int maxEntries) {
        Path path = file(executionId);
        if (!Files.exists(path)) {
            return new LogPage(List.of(), offset, offset, 0);
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (offset >= size) {
                return new LogPage(List.of(), offset, offset, size);
            }
            if (offset > 0) {
                java.nio.ByteBuffer previous = java.nio.ByteBuffer.allocate(1);
                channel.read(previous, offset - 1);
                if (previous.get(0) != '\n') {
                    throw new IllegalArgumentException("offset " + offset + " is not the start of a line; pass back a nextOffset you were given");
                }
            }
            channel.position(offset);
            List<LogEntry> entries = new ArrayList<>();
            long position = offset;
            try (InputStream in = new java.io.BufferedInputStream(Channels.newInputStream(channel), 65536)) {
                java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream(256);
                long lineBytes = 0;
                int b;
                while (entries.size() < maxEntries && (b = in.read()) != -1) {
                    lineBytes++;
                    if (b == '\n') {
                        if (line.size() < MAX_LINE_BYTES) {
                            entries.add(parse(line.toByteArray(), executionId));
                        } else {
                            entries.add(new LogEntry(null, "", "", "tandem", "WARN", "a log line of " + lineBytes + " bytes was too long to show"));
                        }
                        position += lineBytes;
                        lineBytes = 0;
                        line.reset();
                    } else if (line.size() < MAX_LINE_BYTES) {
                        line.write(b);
                    }
                }
            }
            return new LogPage(entries, offset, position, size);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the log of execution " + executionId + ": " + e.getMessage(), e);
        }
    }

    private LogEntry parse(byte[] line, UUID executionId) {
        try {
            return mapper.readValue(line, LogEntry.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the log of execution " + executionId + " has a damaged line: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void delete(UUID executionId) {
        try {
            Files.deleteIfExists(file(executionId));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the log of execution " + executionId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void probe() {
        Path probe = root.resolve(".probe-" + UUID.randomUUID());
        try {
            Files.writeString(probe, "ok");
            Files.delete(probe);
        } catch (IOException e) {
            throw new UncheckedIOException("log folder " + root + " is not writable: " + e.getMessage(), e);
        }
    }

    public Path root() {
        return root;
    }
}
