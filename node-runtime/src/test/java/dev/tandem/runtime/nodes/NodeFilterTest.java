package dev.tandem.runtime.nodes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Rundeck's node-filter syntax on a small fleet, one documented form per case. */
class NodeFilterTest {
    static final List<Node> FLEET = List.of(
            node("web-1", "10.0.0.1", "linux", Set.of("web", "prod")),
            node("web-2", "10.0.0.2", "linux", Set.of("web", "staging")),
            node("db-1", "10.0.0.3", "linux", Set.of("db", "prod")),
            node("win-1", "10.0.0.4", "windows", Set.of("web", "prod")));

    static Node node(String name, String hostname, String os, Set<String> tags) {
        return new Node(name, Map.of("hostname", hostname, "osFamily", os, "username", "deploy"), tags);
    }

    static List<String> names(String filter) {
        return NodeFilter.parse(filter).select(FLEET).stream().map(Node::name).toList();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            ".*                                         | web-1,web-2,db-1,win-1",
            "web-1                                      | web-1",
            "name: web-.*                               | web-1,web-2",
            "name: web-1,db-1                           | web-1,db-1",
            "hostname: 10.0.0.3                         | db-1",
            "tags: web                                  | web-1,web-2,win-1",
            "tags: web+prod                             | web-1,win-1",
            "tags: db,staging                           | web-2,db-1",
            "tags: web+prod !osFamily: windows          | web-1",
            "!tags: prod                                | web-2",
            "osFamily: linux name: .*-1                 | web-1,db-1",
            "username: deploy tags: 'db'                | db-1",
            "tags: \"web+prod\" name: \"win-1\"         | win-1",
            "colour: blue                               | ''"})
    void theDocumentedSyntaxSelectsTheRightNodes(String filter, String expected) {
        List<String> want = expected.isEmpty() ? List.of() : List.of(expected.split(","));
        assertThat(names(filter.trim())).containsExactlyElementsOf(want);
    }

    @Test
    void malformedFiltersSayWhatIsWrongAndWhere() {
        assertThatThrownBy(() -> NodeFilter.parse("web !")).hasMessage("expected a value after '!' at position 4");
        assertThatThrownBy(() -> NodeFilter.parse("! web")).hasMessage("expected a value after '!' at position 0");
        assertThatThrownBy(() -> NodeFilter.parse("tags: web name:"))
                .isInstanceOf(NodeFilter.FilterException.class)
                .hasMessage("expected a value after 'name:' at position 15");
        assertThatThrownBy(() -> NodeFilter.parse("name: 'web"))
                .hasMessage("unclosed ' quote at position 6");
        assertThatThrownBy(() -> NodeFilter.parse("tags: web,,db"))
                .hasMessageContaining("empty value in 'web,,db' at position 6");
    }
}
