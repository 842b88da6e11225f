package dev.tandem.runtime.nodes;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Rundeck's node-filter syntax: {@code attribute: value} terms separated by spaces, a bare value
 * meaning {@code name: value}, {@code !attribute: value} to exclude, values quoted with " or ' to
 * hold spaces, several values separated by {@code ,} (any of them), and for {@code tags} also
 * {@code +} (all of them). A value matches when it equals the attribute or, as a regular
 * expression, matches all of it. A node is selected when it matches every include term and no
 * exclude term. Example: {@code tags: web+prod name: web-.* !osFamily: windows}.
 */
public final class NodeFilter {
    /** A malformed filter: what is wrong and at which character (0-based) of the filter. */
    public static final class FilterException extends IllegalArgumentException {
        private final int position;

        FilterException(String message, int position) {
            super(message + " at position " + position);
            this.position = position;
        }

        public int position() {
            return position;
        }
    }

    record Term(String attribute, List<List<String>> anyOfAll, boolean exclude) {}

    private final String text;
    private final List<Term> terms;

    private NodeFilter(String text, List<Term> terms) {
        this.text = text;
        this.terms = terms;
    }

    public static NodeFilter parse(String text) {
        List<Term> terms = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (true) {
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= n) {
                break;
            }
            int termStart = i;
            boolean exclude = false;
            if (text.charAt(i) == '!') {
                exclude = true;
                i++;
            }
            int wordStart = i;
            while (i < n && isKeyChar(text.charAt(i))) {
                i++;
            }
            String attribute = "name";
            if (i < n && text.charAt(i) == ':' && i > wordStart) {
                attribute = text.substring(wordStart, i);
                i++;
                while (i < n && Character.isWhitespace(text.charAt(i))) {
                    i++;
                }
                if (i >= n) {
                    throw new FilterException("expected a value after '" + text.substring(termStart, Math.min(n, wordStart + attribute.length() + 1)).trim() + "'", i);
                }
            } else {
                i = wordStart;
            }
            int valueStart = i;
            if (i >= n || Character.isWhitespace(text.charAt(i))) {
                throw new FilterException("expected a value after '!'", termStart);
            }
            StringBuilder value = new StringBuilder();
            if (text.charAt(i) == '"' || text.charAt(i) == '\'') {
                char quote = text.charAt(i++);
                int close = text.indexOf(quote, i);
                if (close < 0) {
                    throw new FilterException("unclosed " + quote + " quote", valueStart);
                }
                value.append(text, i, close);
                i = close + 1;
            } else {
                while (i < n && !Character.isWhitespace(text.charAt(i))) {
                    value.append(text.charAt(i++));
                }
            }
            if (value.length() == 0) {
                throw new FilterException("expected a value for '" + attribute + "'", valueStart);
            }
            if (attribute.isEmpty()) {
                throw new FilterException("expected an attribute name before ':'", termStart);
            }
            terms.add(new Term(attribute, alternatives(attribute, value.toString(), valueStart), exclude));
        }
        return new NodeFilter(text, List.copyOf(terms));
    }

    private static boolean isKeyChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.';
    }

    /** {@code a,b} is any of a or b; for tags {@code a+b} is both a and b. */
    private static List<List<String>> alternatives(String attribute, String value, int at) {
        List<List<String>> any = new ArrayList<>();
        for (String alternative : value.split(",", -1)) {
            if (alternative.isEmpty()) {
                throw new FilterException("empty value in '" + value + "'", at);
            }
            any.add(attribute.equals("tags") ? List.of(alternative.split("\\+", -1)) : List.of(alternative));
        }
        return any;
    }

    public boolean matches(Node node) {
        for (Term term : terms) {
            boolean hit = term.anyOfAll().stream().anyMatch(all -> all.stream().allMatch(v -> matches(node, term.attribute(), v)));
            if (term.exclude() == hit) {
                return false;
            }
        }
        return true;
    }

    public List<Node> select(List<Node> nodes) {
        return nodes.stream().filter(this::matches).toList();
    }

    private static boolean matches(Node node, String attribute, String wanted) {
        if (attribute.equals("tags")) {
            Set<String> tags = node.tags();
            return tags.contains(wanted) || tags.stream().anyMatch(t -> regexMatches(wanted, t));
        }
        String actual = node.attribute(attribute);
        return actual != null && (actual.equals(wanted) || regexMatches(wanted, actual));
    }

    private static boolean regexMatches(String pattern, String value) {
        try {
            return dev.tandem.runtime.text.BoundedRegex.matches(Pattern.compile(pattern), value);
        } catch (PatternSyntaxException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
