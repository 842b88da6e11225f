package dev.tandem.runtime.text;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rundeck's duration syntax for {@code timeout} and retry {@code delay}: a bare number of
 * seconds ({@code 120}), or units {@code d h m s} in that order with optional spaces
 * ({@code 6h 30m}, {@code 1d2h}).
 */
public final class RundeckDuration {
    private static final Pattern SECONDS = Pattern.compile("\\d{1,9}");
    private static final Pattern UNITS = Pattern.compile(
            "(?:(\\d{1,6})\\s*d)?\\s*(?:(\\d{1,7})\\s*h)?\\s*(?:(\\d{1,9})\\s*m)?\\s*(?:(\\d{1,9})\\s*s)?");

    private RundeckDuration() {}

    /** @throws IllegalArgumentException naming the expected syntax */
    public static Duration parse(String text) {
        String value = text == null ? "" : text.trim();
        if (SECONDS.matcher(value).matches()) {
            return Duration.ofSeconds(Long.parseLong(value));
        }
        Matcher m = UNITS.matcher(value);
        if (value.isEmpty() || !m.matches() || (m.group(1) == null && m.group(2) == null && m.group(3) == null && m.group(4) == null)) {
            throw new IllegalArgumentException("'" + text + "' is not a duration; use seconds (120) or units d h m s (6h 30m)");
        }
        return Duration.ofDays(number(m.group(1)))
                .plusHours(number(m.group(2)))
                .plusMinutes(number(m.group(3)))
                .plusSeconds(number(m.group(4)));
    }

    private static long number(String group) {
        return group == null ? 0 : Long.parseLong(group);
    }
}
