package dev.tandem.runtime.nodes;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A node of a project's resource model, as Rundeck describes one: a name, attributes such as
 * {@code hostname}, {@code username} and {@code osFamily}, and tags.
 */
public record Node(String name, Map<String, String> attributes, Set<String> tags) {

    public Node {
        attributes = Map.copyOf(attributes);
        tags = Set.copyOf(tags);
    }

    /** The value of an attribute; {@code name} is an attribute too. */
    public String attribute(String key) {
        return key.equals("name") ? name : attributes.get(key);
    }

    /** The node every runtime always has: the host it runs on. */
    public static Node localHost(String name) {
        Map<String, String> attributes = new LinkedHashMap<>();
        attributes.put("hostname", "localhost");
        attributes.put("username", System.getProperty("user.name", ""));
        attributes.put("osFamily", "unix");
        attributes.put("osName", System.getProperty("os.name", ""));
        attributes.put("osArch", System.getProperty("os.arch", ""));
        attributes.put("osVersion", System.getProperty("os.version", ""));
        attributes.put("description", "the Tandem runtime host");
        return new Node(name, attributes, new LinkedHashSet<>());
    }
}
