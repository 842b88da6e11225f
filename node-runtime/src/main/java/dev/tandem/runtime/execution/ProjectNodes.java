package dev.tandem.runtime.execution;

import dev.tandem.runtime.nodes.Node;
import dev.tandem.runtime.nodes.NodeSource;
import java.util.List;
import java.util.Map;

/** A project's nodes as a run sees them when it starts: the runtime host first, then its node sources. */
public interface ProjectNodes {
    record Resolved(List<Node> nodes, List<NodeSource.Status> sources, Map<String, Object> config) {}

    Resolved resolve(String project);

    /** The project's configuration only (no node source is read). */
    Map<String, Object> config(String project);
}
