package dev.tandem.runtime.nodes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A resource model file (Rundeck YAML or JSON), re-read when it changes. A file that cannot be
 * read or parsed keeps serving the last good nodes, and says why in its status.
 */
public final class FileNodeSource extends LastGoodNodeSource {
    private final Path path;
    private final String format;
    private FileTime readAt;
    private long readSize = -1;

    public FileNodeSource(Path path, String format) {
        super("file " + path + " (" + format + ")", "cannot read " + path, Duration.ZERO);
        this.path = path;
        this.format = format;
    }

    @Override
    protected Optional<List<Node>> read() throws Exception {
        FileTime modified = Files.getLastModifiedTime(path);
        long size = Files.size(path);
        if (modified.equals(readAt) && size == readSize) {
            return Optional.empty();
        }
        List<Node> nodes = ResourceModel.parse(Files.readString(path), format);
        readAt = modified;
        readSize = size;
        return Optional.of(nodes);
    }
}
