package dev.tandem.replicator.apply;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CopyTextTest {
    private static String copyText(String value) {
        StringBuilder out = new StringBuilder();
        CopyText.append(out, value);
        return out.toString();
    }

    @Test
    void nullIsBackslashNAndTheTextBackslashNIsEscaped() {
        assertThat(copyText(null)).isEqualTo("\\N");
        assertThat(copyText("\\N")).isEqualTo("\\\\N");
        assertThat(copyText("")).isEmpty();
    }

    @Test
    void delimitersAndBackslashesAreEscapedAndEverythingElseIsKept() {
        assertThat(copyText("a\tb\nc\rd\\e")).isEqualTo("a\\tb\\nc\\rd\\\\e");
        assertThat(copyText("\\.")).as("the end-of-data marker stays text").isEqualTo("\\\\.");
        assertThat(copyText("{\"a b\",NULL} \u00e9 \ud83d\ude00")).isEqualTo("{\"a b\",NULL} \u00e9 \ud83d\ude00");
        assertThat(copyText("\\x00ff")).as("bytea's hex form").isEqualTo("\\\\x00ff");
    }
}
