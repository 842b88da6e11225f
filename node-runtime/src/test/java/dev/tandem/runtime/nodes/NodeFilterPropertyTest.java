package dev.tandem.runtime.nodes;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The node-filter parser and matcher against a straightforward reference: filters are built as
 * data (terms of attribute, alternatives, exclusion), written out in Rundeck's syntax with
 * random spacing and quoting, parsed, and must select exactly the nodes the reference selects.
 */
class NodeFilterPropertyTest {
    private static final List<String> ATTRIBUTES = List.of("name", "hostname", "osFamily", "rack", "tags");
    private static final List<String> WORDS = List.of("web", "db", "prod", "x-1", "web.2");
    private static final List<String> PATTERNS = List.of("w.*", "db[0-9]", ".*-1", "prod|web");

    /** {@code attribute: a+b,c}: any alternative, each alternative all of its values (several only for tags). */
    record Term(String attribute, List<List<String>> alternatives, boolean exclude, boolean bare, String quote) {}

    record Case(List<Term> terms, List<Node> nodes, String spacing) {}

    /** The reference: a value matches when it equals the attribute or, as a regular expression, matches all of it. */
    private static boolean valueMatches(String wanted, String actual) {
        return actual != null && (actual.equals(wanted) || actual.matches(wanted));
    }

    private static boolean termMatches(Term term, Node node) {
        for (List<String> all : term.alternatives()) {
            boolean every = true;
            for (String wanted : all) {
                boolean hit = term.attribute().equals("tags")
                        ? node.tags().stream().anyMatch(tag -> valueMatches(wanted, tag))
                        : valueMatches(wanted, term.attribute().equals("name") ? node.name() : node.attributes().get(term.attribute()));
                every &= hit;
            }
            if (every) {
                return true;
            }
        }
        return false;
    }

    private static List<String> reference(List<Term> terms, List<Node> nodes) {
        List<String> selected = new ArrayList<>();
        for (Node node : nodes) {
            boolean in = terms.stream().filter(t -> !t.exclude()).allMatch(t -> termMatches(t, node))
                    && terms.stream().filter(Term::exclude).noneMatch(t -> termMatches(t, node));
            if (in) {
                selected.add(node.name());
            }
        }
        return selected;
    }

    private static String render(List<Term> terms, String spacing) {
        StringBuilder text = new StringBuilder(spacing.substring(0, 1).repeat(spacing.length() > 2 ? 1 : 0));
        for (Term term : terms) {
            String value = String.join(",", term.alternatives().stream().map(all -> String.join("+", all)).toList());
            if (!term.quote().isEmpty()) {
                value = term.quote() + value + term.quote();
            }
            text.append(term.exclude() ? "!" : "");
            text.append(term.bare() ? value : term.attribute() + ":" + spacing + value);
            text.append(spacing);
        }
        return text.toString();
    }

    @Property(tries = 400)
    void parsedFiltersSelectWhatTheReferenceSelects(@ForAll("cases") Case c) {
        String text = render(c.terms(), c.spacing());
        List<String> actual = NodeFilter.parse(text).select(c.nodes()).stream().map(Node::name).toList();
        assertThat(actual).as("filter <%s>", text).isEqualTo(reference(c.terms(), c.nodes()));
    }

    @Provide
    Arbitrary<Case> cases() {
        return Combinators.combine(terms().list().ofMinSize(1).ofMaxSize(4), nodes(), Arbitraries.of(" ", "  ", " \t "))
                .as(Case::new);
    }

    private Arbitrary<Term> terms() {
        Arbitrary<String> value = Arbitraries.oneOf(Arbitraries.of(WORDS), Arbitraries.of(PATTERNS).filter(p -> !p.contains("|")));
        return Arbitraries.of(ATTRIBUTES).flatMap(attribute -> {
            Arbitrary<List<String>> all = attribute.equals("tags") ? value.list().ofMinSize(1).ofMaxSize(2) : value.list().ofSize(1);
            Arbitrary<Boolean> bare = attribute.equals("name") ? Arbitraries.of(true, false) : Arbitraries.just(false);
            return Combinators.combine(all.list().ofMinSize(1).ofMaxSize(3), Arbitraries.of(true, false, false), bare, Arbitraries.of("", "", "'", "\""))
                    .as((alternatives, exclude, isBare, quote) -> new Term(attribute, alternatives, exclude, isBare, quote));
        });
    }

    private Arbitrary<List<Node>> nodes() {
        Arbitrary<String> word = Arbitraries.of("web", "web1", "web.2", "db", "db1", "db7", "prod", "x-1", "stage");
        Arbitrary<Node> node = Combinators.combine(word, word.optional(), Arbitraries.of("unix", "windows"),
                        word.optional(), word.set().ofMaxSize(3))
                .as((name, hostname, os, rack, tags) -> {
                    Map<String, String> attributes = new LinkedHashMap<>();
                    hostname.ifPresent(h -> attributes.put("hostname", h));
                    attributes.put("osFamily", os);
                    rack.ifPresent(r -> attributes.put("rack", r));
                    return new Node(name, attributes, new LinkedHashSet<>(tags));
                });
        return node.list().ofMinSize(1).ofMaxSize(8).map(list -> {
            Map<String, Node> unique = new LinkedHashMap<>();
            list.forEach(n -> unique.putIfAbsent(n.name(), n));
            return List.copyOf(unique.values());
        });
    }

    @Property(tries = 2000)
    void anyTextEitherParsesOrFailsWithAPositionInsideIt(@ForAll("texts") String text) {
        try {
            NodeFilter.parse(text);
        } catch (NodeFilter.FilterException e) {
            assertThat(e.position()).as("position of the problem in <%s>", text).isBetween(0, text.length());
        }
    }

    @Provide
    Arbitrary<String> texts() {
        return Arbitraries.strings().withChars("ab:!,+'\" .*-").ofMaxLength(16);
    }

}
