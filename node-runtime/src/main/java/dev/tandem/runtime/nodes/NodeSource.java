package dev.tandem.runtime.nodes;

import java.util.List;

/** One source of a project's nodes; a failing source serves its last good nodes and says why. */
public interface NodeSource {
    /** What the source serves and whether its last read worked. */
    record Status(String source, boolean healthy, String message, int nodes) {}

    List<Node> nodes();

    Status status();
}
