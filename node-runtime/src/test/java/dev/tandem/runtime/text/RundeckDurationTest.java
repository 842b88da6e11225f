package dev.tandem.runtime.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RundeckDurationTest {

    @ParameterizedTest
    @CsvSource({"120, PT2M", "0, PT0S", "6h 30m, PT6H30M", "1d2h, PT26H", "45s, PT45S", "1d 1h 1m 1s, PT25H1M1S", " 90m , PT1H30M"})
    void rundeckDurationsParse(String text, String expected) {
        assertThat(RundeckDuration.parse(text)).isEqualTo(Duration.parse(expected));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "ten", "5 parsecs", "1h 2d", "-5", "1.5h", "h"})
    void anythingElseIsRefusedWithTheExpectedSyntax(String text) {
        assertThatThrownBy(() -> RundeckDuration.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("use seconds (120) or units d h m s (6h 30m)");
    }
}
