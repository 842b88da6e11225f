package dev.tandem.runtime.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.runtime.text.Arguments;
import dev.tandem.runtime.text.Expansion;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ArgumentsTest {

    @Test
    void wordsAreSplitLikeAShellDoesForQuotes() {
        assertThat(Arguments.split("  -a 1 'two words' \"say \\\"hi\\\"\" x\\ y ''")).containsExactly("-a", "1", "two words", "say \"hi\"", "x y", "");
        assertThat(Arguments.split("")).isEmpty();
    }

    @Test
    void anUnclosedQuoteIsAnError() {
        assertThatThrownBy(() -> Arguments.split("a 'b")).hasMessageContaining("unclosed ' quote");
    }

    @Test
    void jobReferenceArgsArePairsOfOptionAndValue() {
        assertThat(WorkflowRunner.jobArgs("-env ${option.e} -msg 'two words' -flag", Map.of("e", "prod"))).isEqualTo(Map.of("env", "prod", "msg", "two words", "flag", ""));
        assertThatThrownBy(() -> WorkflowRunner.jobArgs("prod", Map.of())).hasMessageContaining("word 1 is not an '-option' name");
    }

    @Test
    void optionReferencesExpandAndUnknownOnesBecomeEmpty() {
        Map<String, String> options = Map.of("env", "prod", "a.b", "x$1\\");
        assertThat(Expansion.expand("deploy ${option.env} ${option.a.b} ${option.none}.", options)).isEqualTo("deploy prod x$1\\ .");
        assertThat(Expansion.expandScript("@option.env@ ${option.env} @option.none@", options)).isEqualTo("prod prod ");
        assertThat(Expansion.environment(options)).containsEntry("RD_OPTION_ENV", "prod").containsEntry("RD_OPTION_A_B", "x$1\\");
    }
}
