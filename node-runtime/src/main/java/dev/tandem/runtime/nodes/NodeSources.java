package dev.tandem.runtime.nodes;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A project's nodes: the runtime host, then each source of the project's {@code nodeSources}
 * configuration in order, a later source replacing a node of the same name. Supported here:
 * {@code {"type": "file", "path": "/etc/tandem/nodes.yaml", "format": "yaml|json"}} and
 * {@code {"type": "script", "command": "...", "format": "yaml|json", "timeoutSeconds": 30, "cacheSeconds": 30}}.
 */
public final class NodeSources {
    /** A project's nodes and the state of each of its sources. */
    public record Model(List<Node> nodes, List<NodeSource.Status> sources) {}

    private final Node localHost;
    private final java.util.function.Function<String, Optional<String>> passwords;
    private final long maxBytes;
    private final Map<String, NodeSource> cache = new ConcurrentHashMap<>();

    public NodeSources(Node localHost, long maxBytes) {
        this(localHost, path -> Optional.empty(), maxBytes);
    }

    /**
     * @param passwords reads a password from key storage, for a URL source's auth header
     * @param maxBytes  the largest document a source may deliver (configuration {@code nodes.maxSourceSize})
     */
    public NodeSources(Node localHost, java.util.function.Function<String, Optional<String>> passwords, long maxBytes) {
        this.localHost = localHost;
        this.passwords = passwords;
        this.maxBytes = maxBytes;
    }

    public Model model(Map<String, Object> projectConfig) {
        Map<String, Node> byName = new LinkedHashMap<>();
        byName.put(localHost.name(), localHost);
        List<NodeSource.Status> statuses = new ArrayList<>();
        for (Map<?, ?> config : sources(projectConfig)) {
            NodeSource source = cache.computeIfAbsent(config.toString(), key -> create(config));
            source.nodes().forEach(node -> byName.put(node.name(), node));
            statuses.add(source.status());
        }
        return new Model(List.copyOf(byName.values()), statuses);
    }

    /**
     * The status of the project's sources that have been read already (by a run or a node
     * listing), without reading any: a health check must not run scripts or fetch URLs.
     */
    public List<NodeSource.Status> readStatuses(Map<String, Object> projectConfig) {
        List<NodeSource.Status> statuses = new ArrayList<>();
        for (Map<?, ?> config : sources(projectConfig)) {
            NodeSource source = cache.get(config.toString());
            if (source != null) {
                statuses.add(source.status());
            }
        }
        return statuses;
    }

    private NodeSource create(Map<?, ?> config) {
        if ("url".equals(config.get("type"))) {
            Object header = config.get("authHeader");
            String keyPath = String.valueOf(config.get("authKeyPath"));
            return new UrlNodeSource(java.net.URI.create(String.valueOf(config.get("url"))), format(config),
                    Duration.ofSeconds(seconds(config.get("timeoutSeconds"), 10)), Duration.ofSeconds(seconds(config.get("cacheSeconds"), 30)),
                    header == null ? null : header.toString(), () -> passwords.apply(keyPath), maxBytes);
        }
        if ("script".equals(config.get("type"))) {
            return new ScriptNodeSource(String.valueOf(config.get("command")), format(config),
                    Duration.ofSeconds(seconds(config.get("timeoutSeconds"), 30)), Duration.ofSeconds(seconds(config.get("cacheSeconds"), 30)), maxBytes);
        }
        return new FileNodeSource(Path.of(String.valueOf(config.get("path"))), format(config), maxBytes);
    }

    private static long seconds(Object value, long otherwise) {
        return value instanceof Number n ? n.longValue() : otherwise;
    }

    /**
     * What the first source of {@code wanted} that is not already in {@code stored} would do on
     * the Tandem host, if it reaches the host at all: a script runs a command there, a URL sends
     * requests from it, a file outside {@code allowedFileDirs} reads any file the runtime may read
     * (its own token files among them). Only admins add those; a project's admins may add files
     * from the allowed folders.
     */
    public static Optional<String> hostAccess(Object wanted, Object stored, List<Path> allowedFileDirs) {
        if (!(wanted instanceof List<?> sources)) {
            return Optional.empty();
        }
        List<?> existing = stored instanceof List<?> list ? list : List.of();
        for (Object source : sources) {
            if (!(source instanceof Map<?, ?> m) || existing.contains(source)) {
                continue;
            }
            Object type = m.get("type");
            if ("script".equals(type)) {
                return Optional.of("configure a script node source (it runs a command on the Tandem host)");
            }
            if ("url".equals(type)) {
                return Optional.of("configure a URL node source (it sends requests from the Tandem host)");
            }
            if ("file".equals(type)) {
                Path path = Path.of(String.valueOf(m.get("path"))).normalize();
                if (allowedFileDirs.stream().noneMatch(dir -> path.startsWith(dir.normalize()))) {
                    return Optional.of("configure a file node source outside " + (allowedFileDirs.isEmpty() ? "the folders in nodes.fileSourceDirs (none)"
                            : allowedFileDirs + " (nodes.fileSourceDirs)") + " (it reads a file of the Tandem host)");
                }
            }
        }
        return Optional.empty();
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
            Object type = source.get("type");
            if ("script".equals(type)) {
                if (!(source.get("command") instanceof String c) || c.isBlank()) {
                    return Optional.of(new String[] {at + ".command", "a script node source needs a 'command'"});
                }
            } else if ("url".equals(type)) {
                Object url = source.get("url");
                if (!(url instanceof String u) || !(u.startsWith("http://") || u.startsWith("https://"))) {
                    return Optional.of(new String[] {at + ".url", "a URL node source needs an http(s) 'url'"});
                }
                if ((source.get("authHeader") == null) != (source.get("authKeyPath") == null)) {
                    return Optional.of(new String[] {at + ".authKeyPath", "'authHeader' and 'authKeyPath' (a password in key storage) go together"});
                }
            } else if ("file".equals(type)) {
                Object path = source.get("path");
                if (!(path instanceof String p) || !Path.of(p).isAbsolute()) {
                    return Optional.of(new String[] {at + ".path", "a file node source needs an absolute 'path'"});
                }
            } else {
                return Optional.of(new String[] {at + ".type", "node source type '" + type
                        + "' is not known; use 'file', 'script' or 'url'"});
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
            list.stream().filter(s -> s instanceof Map<?, ?> m && List.of("file", "script", "url").contains(String.valueOf(m.get("type"))))
                    .forEach(s -> out.add((Map<?, ?>) s));
        }
        return out;
    }

    private static String format(Map<?, ?> source) {
        return String.valueOf(source.get("format") == null ? "yaml" : source.get("format"));
    }
}
