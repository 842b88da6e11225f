package dev.tandem.runtime.job;

import dev.tandem.runtime.refusal.Refusal;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A YAML document turned into plain maps, lists and scalars, with the line of every value kept
 * by its path ({@code [0].sequence.commands[1].exec}) so errors can point at it. Composing only
 * builds nodes: no object of a user-chosen class is ever constructed.
 */
public final class YamlTree {
    private final Object root;
    private final Map<String, Mark> marks;

    private YamlTree(Object root, Map<String, Mark> marks) {
        this.root = root;
        this.marks = marks;
    }

    public static YamlTree parse(String text, int maxChars) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(20);
        options.setCodePointLimit(Math.max(maxChars, 1024));
        options.setNestingDepthLimit(40);
        Node node;
        try {
            node = new Yaml(options).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String where = mark == null ? "the YAML document" : "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
            String problem = e.getProblem() != null ? e.getProblem() : e.getMessage();
            String context = e.getContext() != null ? e.getContext() + ": " : "";
            throw JobImportException.of(Refusal.Kind.MALFORMED, "malformed YAML: " + context + problem, where);
        } catch (YAMLException e) {
            throw JobImportException.of(Refusal.Kind.MALFORMED, "malformed YAML: " + e.getMessage(), "the YAML document");
        }
        if (node == null) {
            throw JobImportException.of(Refusal.Kind.MALFORMED, "the YAML document is empty", "the YAML document");
        }
        Map<String, Mark> marks = new HashMap<>();
        Object root = convert(node, "", marks, java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()));
        return new YamlTree(root, marks);
    }

    public Object root() {
        return root;
    }

    /** "line 7, column 9" for the value at {@code path}, or of its nearest enclosing value. */
    public String lineOf(String path) {
        String p = path;
        while (true) {
            Mark mark = marks.get(p);
            if (mark != null) {
                return "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
            }
            if (p.isEmpty()) {
                return "the YAML document";
            }
            int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
            p = cut <= 0 ? "" : p.substring(0, cut);
        }
    }

    /**
     * Aliases are refused, of values as of maps and lists: Rundeck job YAML never needs them, and
     * expanding them lets a small document grow without bound (300 aliases of a long value store
     * it 300 times) or loop forever.
     */
    private static Object convert(Node node, String path, Map<String, Mark> marks, java.util.Set<Node> seen) {
        if (!seen.add(node)) {
            throw JobImportException.of(Refusal.Kind.MALFORMED, "YAML aliases (*name) are not supported in job definitions; write the value out",
                    "line " + (node.getStartMark().getLine() + 1) + ", column " + (node.getStartMark().getColumn() + 1));
        }
        marks.put(path, node.getStartMark());
        if (node instanceof MappingNode mapping) {
            Map<String, Object> map = new LinkedHashMap<>();
            for (NodeTuple tuple : mapping.getValue()) {
                if (!(tuple.getKeyNode() instanceof ScalarNode key)) {
                    throw JobImportException.of(Refusal.Kind.MALFORMED, "a map key must be a plain value",
                            "line " + (tuple.getKeyNode().getStartMark().getLine() + 1));
                }
                String childPath = path.isEmpty() ? key.getValue() : path + "." + key.getValue();
                if (map.containsKey(key.getValue())) {
                    // SnakeYAML checks duplicates only when it constructs objects, which this tree does not use.
                    Mark first = marks.get(childPath);
                    throw JobImportException.of(Refusal.Kind.MALFORMED, "the key '" + key.getValue() + "' appears twice in one map (first on line "
                            + (first.getLine() + 1) + "); YAML keeps only one of them, so say which you mean",
                            "line " + (key.getStartMark().getLine() + 1) + ", column " + (key.getStartMark().getColumn() + 1));
                }
                map.put(key.getValue(), convert(tuple.getValueNode(), childPath, marks, seen));
            }
            return map;
        }
        if (node instanceof SequenceNode sequence) {
            List<Object> list = new ArrayList<>();
            int i = 0;
            for (Node item : sequence.getValue()) {
                list.add(convert(item, path + "[" + i++ + "]", marks, seen));
            }
            return list;
        }
        ScalarNode scalar = (ScalarNode) node;
        return scalarValue(scalar);
    }

    private static Object scalarValue(ScalarNode scalar) {
        String text = scalar.getValue();
        Tag tag = scalar.getTag();
        if (Tag.NULL.equals(tag)) {
            return null;
        }
        if (Tag.BOOL.equals(tag)) {
            String lower = text.toLowerCase(Locale.ROOT);
            return lower.equals("true") || lower.equals("yes") || lower.equals("on") || lower.equals("y");
        }
        if (Tag.INT.equals(tag)) {
            try {
                return Long.parseLong(text.replace("_", ""));
            } catch (NumberFormatException e) {
                return text;
            }
        }
        if (Tag.FLOAT.equals(tag)) {
            try {
                return Double.parseDouble(text.replace("_", ""));
            } catch (NumberFormatException e) {
                return text;
            }
        }
        return text;
    }
}
