package dev.tandem.runtime.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Option expansion against a reference model: a template is a list of pieces (plain text, a
 * reference to a known option, a reference to an unknown one); expanding it must give the pieces
 * with each known reference replaced by its value, unknown ones by nothing, and values inserted
 * literally (a value that looks like a reference, or holds '$' and '\', is not expanded again).
 */
class ExpansionPropertyTest {

    @Property
    void expansionEqualsTheModel(@ForAll("options") Map<String, String> options, @ForAll("templates") List<Integer> shape,
                                 @ForAll("plain") List<String> texts) {
        List<String> names = new ArrayList<>(options.keySet());
        StringBuilder template = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < shape.size(); i++) {
            int kind = shape.get(i);
            String plain = texts.isEmpty() ? "x" : texts.get(i % texts.size());
            if (kind == 0 || names.isEmpty()) {
                template.append(plain);
                expected.append(plain);
            } else if (kind == 1) {
                String name = names.get(i % names.size());
                template.append("${option.").append(name).append("}");
                expected.append(options.get(name));
            } else {
                template.append("${option.unknown_").append(i).append("}");
            }
        }
        assertThat(Expansion.expand(template.toString(), options)).isEqualTo(expected.toString());
    }

    @Property
    void scriptsExpandBothSyntaxesToTheSameValue(@ForAll("options") Map<String, String> options) {
        for (Map.Entry<String, String> e : options.entrySet()) {
            String script = "@option." + e.getKey() + "@|${option." + e.getKey() + "}";
            assertThat(Expansion.expandScript(script, Map.of(e.getKey(), e.getValue()))).isEqualTo(e.getValue() + "|" + e.getValue());
        }
    }

    @Property
    void everyOptionIsExportedUnderItsRundeckName(@ForAll("options") Map<String, String> options) {
        Map<String, String> env = Expansion.environment(options);
        assertThat(env).hasSize(options.size());
        env.forEach((name, value) -> assertThat(name).matches("RD_OPTION_[A-Z0-9_]+"));
        assertThat(env.values()).containsExactlyInAnyOrderElementsOf(options.values());
    }

    @Provide
    Arbitrary<Map<String, String>> options() {
        Arbitrary<String> names = Arbitraries.strings().withChars("abcXYZ019_.-").ofMinLength(1).ofMaxLength(8)
                .filter(n -> !n.startsWith("unknown_"));
        Arbitrary<String> values = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(12),
                Arbitraries.of("$1", "\\", "${option.a}", "@option.a@", "a b", "$", "}"));
        return Arbitraries.maps(names, values).ofMaxSize(5).<Map<String, String>>map(LinkedHashMap::new)
                .filter(m -> m.keySet().stream().map(Expansion::variable).distinct().count() == m.size());
    }

    @Provide
    Arbitrary<List<Integer>> templates() {
        return Arbitraries.integers().between(0, 2).list().ofMaxSize(10);
    }

    @Provide
    Arbitrary<List<String>> plain() {
        return Arbitraries.strings().withChars("abc $@{}.\\").ofMaxLength(6)
                .filter(t -> !t.contains("${") && !t.contains("$")).list().ofMaxSize(5);
    }
}
