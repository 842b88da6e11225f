package dev.tandem.runtime.nodes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A project's nodes: the runtime host, then each source of the project's {@code nodeSources}
 * configuration in order, a later source replacing a node of the same name. Supported here:
 * {@code {"type": "file", "path": "/etc/tandem/nodes.yaml", "format": "yaml|json"}}.
 */
public final class NodeSources {
    /** A project's nodes and the state of each of its sources. */
    public record Model(List<Node> nodes, List<FileNodeSource.Status> sources) {}

    private final Node localHost;
    private final Map<String, FileNodeSource> files = new ConcurrentHashMap<>();

    public NodeSources(Node localHost) {
        this.localHost = localHost;
    }

    public Model model(Map<String, Object> projectConfig) {
        Map<String, Node> byName = new LinkedHashMap<>();
        byName.put(localHost.name(), localHost);
        List<FileNodeSource.Status> statuses = new ArrayList<>();
        for (Map<?, ?> source : sources(projectConfig)) {
            FileNodeSource file = files.computeIfAbsent(source.get("path") + "\u0000" + format(source),
                    key -> new FileNodeSource(Path.of(String.valueOf(source.get("path"))), format(source)));
            file.nodes().forEach(node -> byName.put(node.name(), node));
            statuses.add(file.status());
        }
        return new Model(List.copyOf(byName.values()), statuses);
    }

    /** Checks a project's {@code nodeSources} when it is saved; returns the field path and the problem. */
    public static Optional<String[]> problem(Object raw) {
        if (raw == null) {
            return Optional.empty();
        }
        if (!(raw instanceof List<?> list)) {
            return Optional.of(new String[] {"nodeSources", "nodeSources must be a list of sources"});
        }
        for (int i = 0; i < list.size(); i++) {
            String at = "nodeSources[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> source)) {
                return Optional.of(new String[] {at, "a node source is an object with 'type'"});
            }
            if (!"file".equals(source.get("type"))) {
                return Optional.of(new String[] {at + ".type", "node source type '" + source.get("type")
                        + "' is not available in this version; use 'file' (script and URL sources come next)"});
            }
            Object path = source.get("path");
            if (!(path instanceof String p) || !Path.of(p).isAbsolute()) {
                return Optional.of(new String[] {at + ".path", "a file node source needs an absolute 'path'"});
            }
            String format = String.valueOf(source.get("format") == null ? "yaml" : source.get("format"));
            if (!format.equals("yaml") && !format.equals("json")) {
                return Optional.of(new String[] {at + ".format", "format must be yaml or json, not '" + format + "'"});
            }
        }
        return Optional.empty();
    }

    private static List<Map<?, ?>> sources(Map<String, Object> config) {
        List<Map<?, ?>> out = new ArrayList<>();
        if (config.get("nodeSources") instanceof List<?> list) {
            list.stream().filter(s -> s instanceof Map<?, ?> m && "file".equals(m.get("type"))).forEach(s -> out.add((Map<?, ?>) s));
        }
        return out;
    }

    private static String format(Map<?, ?> source) {
        return String.valueOf(source.get("format") == null ? "yaml" : source.get("format"));
    }
}
