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

    /**
     * Reads at most {@code maxBytes} of a source's document; more is refused rather than held.
     *
     * @throws IOException when the document is larger, naming the limit and its setting
     */
    public static String readBounded(java.io.InputStream in, long maxBytes) throws IOException {
        byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        if (bytes.length > maxBytes) {
            throw new IOException("the document is larger than the limit of " + maxBytes + " bytes (nodes.maxSourceSize)");
        }
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * A source's status is shown to every reader of the project, and a source may point at a file
     * that is not a resource model at all: errors say where (line, column, the node's position)
     * and what kind of problem, never a piece of the text.
     *
     * @throws IllegalArgumentException saying where and what is wrong
     */
    public static List<Node> parse(String text, String format) {
        JsonNode root;
        try {
            root = (format.equals("json") ? JSON : YAML).readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
            throw new IllegalArgumentException("not valid " + format
                    + (at == null || at.getLineNr() < 1 ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr()));
        } catch (IOException e) {
            throw new IllegalArgumentException("not valid " + format);
        }
        List<Node> nodes = new ArrayList<>();
        if (root == null || root.isMissingNode() || root.isNull()) {
            return nodes;
        }
        if (root.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> e = fields.next();
                nodes.add(node(nodes.size() + 1, e.getKey(), e.getValue()));
            }
        } else if (root.isArray()) {
            for (JsonNode item : root) {
                if (!item.hasNonNull("nodename") && !item.hasNonNull("name")) {
                    throw new IllegalArgumentException("node " + (nodes.size() + 1) + " of the list needs 'nodename'");
                }
                nodes.add(node(nodes.size() + 1, item.hasNonNull("nodename") ? item.get("nodename").asText() : item.get("name").asText(), item));
            }
        } else {
            throw new IllegalArgumentException("expected a map of nodes by name");
        }
        return nodes;
    }

    /** @param position the node's place in the document, 1-based: errors name it instead of any text of the document */
    private static Node node(int position, String name, JsonNode value) {
        if (!value.isObject()) {
            throw new IllegalArgumentException("node " + position + " of the document must be a map of attributes");
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
            throw new IllegalArgumentException("node " + position + " of the document has no hostname");
        }
        return new Node(name, attributes, tags);
    }
}
