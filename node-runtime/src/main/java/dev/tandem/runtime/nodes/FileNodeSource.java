package dev.tandem.runtime.nodes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

/**
 * A resource model file (Rundeck YAML or JSON), re-read when it changes. A file that cannot be
 * read or parsed keeps serving the last good nodes, and says why in its status.
 */
public final class FileNodeSource implements NodeSource {
    private final Path path;
    private final String format;
    private FileTime readAt;
    private long readSize = -1;
    private List<Node> lastGood = List.of();
    private Status status;

    public FileNodeSource(Path path, String format) {
        this.path = path;
        this.format = format;
        this.status = new Status(describe(), false, "not read yet", 0);
    }

    @Override
    public synchronized List<Node> nodes() {
        try {
            FileTime modified = Files.getLastModifiedTime(path);
            long size = Files.size(path);
            if (!modified.equals(readAt) || size != readSize) {
                List<Node> nodes = ResourceModel.parse(Files.readString(path), format);
                lastGood = List.copyOf(nodes);
                readAt = modified;
                readSize = size;
                status = new Status(describe(), true, "read " + nodes.size() + " node(s)", nodes.size());
            }
        } catch (IOException | RuntimeException e) {
            status = new Status(describe(), false, "cannot read " + path + ": " + e.getMessage() + "; serving the last good "
                    + lastGood.size() + " node(s)", lastGood.size());
        }
        return lastGood;
    }

    @Override
    public synchronized Status status() {
        return status;
    }

    private String describe() {
        return "file " + path + " (" + format + ")";
    }
}
