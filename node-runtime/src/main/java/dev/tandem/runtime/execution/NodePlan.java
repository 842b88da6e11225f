package dev.tandem.runtime.execution;

import dev.tandem.runtime.job.NodeDispatch;
import dev.tandem.runtime.nodes.Node;
import dev.tandem.runtime.nodes.NodeFilter;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import dev.tandem.runtime.text.Expansion;
/**
 * The nodes one workflow runs on, in rank order, and how many run at once. Built when the run
 * starts: the filter's option references are expanded, then matched against the project's
 * nodes as its sources serve them now.
 */
record NodePlan(List<Node> nodes, int threads, boolean keepgoing, boolean successOnEmpty, String filter) {

    static NodePlan local(Node host) {
        return new NodePlan(List.of(host), 1, false, false, null);
    }

    /** Throws IllegalArgumentException with the user's reason when the filter or thread count is not usable. */
    static NodePlan of(NodeDispatch dispatch, Map<String, String> options, List<Node> projectNodes, int maxThreads) {
        String filterText = Expansion.expand(dispatch.filter(), options);
        NodeFilter filter = parse(filterText, dispatch.filter(), "node filter");
        List<Node> selected = new ArrayList<>(filter.select(projectNodes));
        if (!dispatch.excludeFilter().isBlank() && dispatch.excludePrecedence()) {
            String excludeText = Expansion.expand(dispatch.excludeFilter(), options);
            NodeFilter exclude = parse(excludeText, dispatch.excludeFilter(), "excludeFilter");
            selected.removeIf(exclude::matches);
        }
        selected.sort(rank(dispatch.rankAttribute(), dispatch.descending()));
        String threadText = Expansion.expand(dispatch.threadcount(), options).trim();
        int threads;
        try {
            threads = threadText.isEmpty() ? 1 : Integer.parseInt(threadText);
        } catch (NumberFormatException e) {
            threads = 0;
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threadcount '" + dispatch.threadcount() + "' expands to '" + threadText
                    + "', not a positive number of threads");
        }
        return new NodePlan(List.copyOf(selected), Math.min(threads, maxThreads), dispatch.keepgoing(), dispatch.successOnEmpty(), filterText);
    }

    private static NodeFilter parse(String expanded, String written, String what) {
        try {
            return NodeFilter.parse(expanded);
        } catch (NodeFilter.FilterException e) {
            throw new IllegalArgumentException("malformed " + what + " '" + expanded + "'"
                    + (expanded.equals(written) ? "" : " (expanded from '" + written + "')") + ": " + e.getMessage());
        }
    }

    /**
     * Rundeck's ranking: by the rank attribute, numbers (in numeric order) before other values
     * (in text order), then by name; nodes without the attribute come last in either order.
     */
    static Comparator<Node> rank(String attribute, boolean descending) {
        Comparator<Node> byValue = (a, b) -> compareValues(a.attribute(attribute), b.attribute(attribute));
        Comparator<Node> ordered = descending ? byValue.reversed() : byValue;
        Comparator<Node> missingLast = (a, b) -> Boolean.compare(a.attribute(attribute) == null, b.attribute(attribute) == null);
        Comparator<Node> byName = Comparator.comparing(Node::name);
        return missingLast.thenComparing(ordered).thenComparing(descending ? byName.reversed() : byName);
    }

    private static int compareValues(String a, String b) {
        if (a == null || b == null) {
            return 0;
        }
        BigDecimal x = number(a);
        BigDecimal y = number(b);
        if (x != null && y != null) {
            return x.compareTo(y);
        }
        if (x != null || y != null) {
            return x != null ? -1 : 1;
        }
        return a.compareTo(b);
    }

    private static BigDecimal number(String text) {
        try {
            return new BigDecimal(text.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
