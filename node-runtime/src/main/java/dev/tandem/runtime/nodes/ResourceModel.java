package dev.tandem.runtime.nodes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rundeck's resource model documents: a map (or list) of nodes by name, each with
 * {@code hostname}, {@code username}, {@code tags} (a comma-separated string or a list) and any
 * other attribute. YAML and JSON.
 */
public final class ResourceModel {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();

    private ResourceModel() {}

    /** @throws IllegalArgumentException naming the node and what is wrong */
    public static List<Node> parse(String text, String format) {
        JsonNode root;
        try {
            root = (format.equals("json") ? JSON : YAML).readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException("not valid " + format + ": " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        List<Node> nodes = new ArrayList<>();
        if (root == null || root.isMissingNode() || root.isNull()) {
            return nodes;
        }
        if (root.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> e = fields.next();
                nodes.add(node(e.getKey(), e.getValue()));
            }
        } else if (root.isArray()) {
            for (JsonNode item : root) {
                if (!item.hasNonNull("nodename") && !item.hasNonNull("name")) {
                    throw new IllegalArgumentException("a node in a list needs 'nodename'");
                }
                nodes.add(node(item.hasNonNull("nodename") ? item.get("nodename").asText() : item.get("name").asText(), item));
            }
        } else {
            throw new IllegalArgumentException("expected a map of nodes by name");
        }
        return nodes;
    }

    private static Node node(String name, JsonNode value) {
        if (!value.isObject()) {
            throw new IllegalArgumentException("node '" + name + "' must be a map of attributes");
        }
        Map<String, String> attributes = new LinkedHashMap<>();
        Set<String> tags = new LinkedHashSet<>();
        value.fields().forEachRemaining(e -> {
            switch (e.getKey()) {
                case "nodename", "name" -> { }
                case "tags" -> {
                    if (e.getValue().isArray()) {
                        e.getValue().forEach(t -> tags.add(t.asText().trim()));
                    } else {
                        for (String t : e.getValue().asText().split(",")) {
                            if (!t.isBlank()) {
                                tags.add(t.trim());
                            }
                        }
                    }
                }
                default -> attributes.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString());
            }
        });
        if (!attributes.containsKey("hostname")) {
            throw new IllegalArgumentException("node '" + name + "' has no hostname");
        }
        return new Node(name, attributes, tags);
    }
}
