package dev.tandem.runtime.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;

/** Property tests of Rundeck's duration syntax against a straightforward model. */
class RundeckDurationPropertyTest {

    @Property
    void unitsInOrderParseToTheirSum(@ForAll @IntRange(max = 99) int d, @ForAll @IntRange(max = 999) int h,
                                     @ForAll @IntRange(max = 9999) int m, @ForAll @IntRange(max = 99999) int s,
                                     @ForAll("separators") String sep, @ForAll boolean withDays, @ForAll boolean withHours,
                                     @ForAll boolean withMinutes, @ForAll boolean withSeconds) {
        StringBuilder text = new StringBuilder();
        Duration expected = Duration.ZERO;
        if (withDays) {
            text.append(d).append("d").append(sep);
            expected = expected.plusDays(d);
        }
        if (withHours) {
            text.append(h).append("h").append(sep);
            expected = expected.plusHours(h);
        }
        if (withMinutes) {
            text.append(m).append("m").append(sep);
            expected = expected.plusMinutes(m);
        }
        if (withSeconds || text.length() == 0) {
            text.append(s).append("s");
            expected = expected.plusSeconds(s);
        }
        assertThat(RundeckDuration.parse(text.toString().trim())).isEqualTo(expected);
    }

    @Property
    void aBareNumberIsSeconds(@ForAll @IntRange(max = 999_999_999) int seconds) {
        assertThat(RundeckDuration.parse(Integer.toString(seconds))).isEqualTo(Duration.ofSeconds(seconds));
    }

    @Property
    void unitsOutOfOrderAreRefused(@ForAll @IntRange(min = 1, max = 99) int a, @ForAll @IntRange(min = 1, max = 99) int b) {
        assertThatThrownBy(() -> RundeckDuration.parse(a + "m" + b + "h")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RundeckDuration.parse(a + "s " + b + "d")).isInstanceOf(IllegalArgumentException.class);
    }

    @Property
    void textWithoutADigitNeverParses(@ForAll @StringLength(max = 12) String text) {
        net.jqwik.api.Assume.that(text.chars().noneMatch(Character::isDigit));
        assertThatThrownBy(() -> RundeckDuration.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Provide
    Arbitrary<String> separators() {
        return Arbitraries.of("", " ", "  ");
    }
}
