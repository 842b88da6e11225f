package dev.tandem.runtime.nodes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A resource model file (Rundeck YAML or JSON), re-read when it changes. A file that cannot be
 * read or parsed keeps serving the last good nodes, and says why in its status. Only a regular
 * file of at most {@code maxBytes} is read (not a device, a pipe or a huge file).
 */
public final class FileNodeSource extends LastGoodNodeSource {
    private final Path path;
    private final String format;
    private final long maxBytes;
    private FileTime readAt;
    private long readSize = -1;

    public FileNodeSource(Path path, String format, long maxBytes) {
        super("file " + path + " (" + format + ")", "cannot read " + path, Duration.ZERO);
        this.path = path;
        this.format = format;
        this.maxBytes = maxBytes;
    }

    @Override
    protected Optional<List<Node>> read() throws Exception {
        if (!Files.isRegularFile(path)) {
            throw new java.io.IOException(Files.exists(path) ? "not a regular file" : "no such file");
        }
        FileTime modified = Files.getLastModifiedTime(path);
        long size = Files.size(path);
        if (modified.equals(readAt) && size == readSize) {
            return Optional.empty();
        }
        String text;
        try (java.io.InputStream in = Files.newInputStream(path)) {
            text = ResourceModel.readBounded(in, maxBytes);
        }
        List<Node> nodes = ResourceModel.parse(text, format);
        readAt = modified;
        readSize = size;
        return Optional.of(nodes);
    }
}
