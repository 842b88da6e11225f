package dev.tandem.runtime.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** Output bytes to lines: newline and CRLF ends, the length cap, and UTF-8 characters never cut in half. */
class LineOutputStreamTest {

    private static List<String> lines(int max, String text) {
        List<String> out = new ArrayList<>();
        try (LineOutputStream stream = new LineOutputStream(max, out::add)) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            stream.write(bytes, 0, bytes.length);
        }
        return out;
    }

    @Test
    void linesEndAtNewlineOrCrlfAndTheLastOneAtClose() {
        assertThat(lines(64, "a\nb\r\nc")).containsExactly("a", "b", "c");
        assertThat(lines(64, "\n\n")).containsExactly("", "");
    }

    @Test
    void aLineOfExactlyTheCapIsOneLine() {
        assertThat(lines(8, "12345678\nabc")).containsExactly("12345678", "abc");
        assertThat(lines(8, "1234567\r\nabc")).containsExactly("1234567", "abc");
        assertThat(lines(8, "123456789\n")).containsExactly("12345678", "9");
    }

    @Test
    void aSplitNeverCutsACharacter() {
        assertThat(lines(8, "123456é7\n")).containsExactly("123456é", "7");
        assertThat(lines(8, "1234567é\n")).containsExactly("1234567", "é");
        assertThat(lines(8, "123456€€\n")).containsExactly("123456", "€€");
    }

    @Property(tries = 300)
    void splittingLosesAndInventsNothing(@ForAll @StringLength(max = 200) String text, @ForAll @IntRange(min = 4, max = 40) int max) {
        String clean = text.replace("\r", "");
        List<String> out = lines(max, clean);
        assertThat(String.join("", out)).isEqualTo(clean.replace("\n", ""));
        out.forEach(line -> assertThat(line.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(max));
    }
}
