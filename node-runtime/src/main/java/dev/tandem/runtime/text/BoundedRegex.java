package dev.tandem.runtime.text;

import java.util.regex.Pattern;

/**
 * Regular expressions written by users (node filters, option rules, member patterns), matched
 * with a bound on the work. Java's engine backtracks: {@code (((.+)+)+)+X} against a 30-character
 * value takes longer than anyone waits, on a core of the runtime. Rundeck's patterns need the
 * full Java syntax (back-references, look-arounds), so instead of a linear-time engine every
 * match reads its value through a counter, and a match that reads more than its budget of
 * characters is abandoned with {@link TooCostlyException}. An ordinary pattern reads each
 * character a few times; the budget allows millions of reads, a few milliseconds of work.
 */
public final class BoundedRegex {
    /** Character reads one match may make. */
    public static final long BUDGET = 5_000_000;

    private BoundedRegex() {}

    /** Thrown when one match needs more than {@link #BUDGET} character reads. */
    public static final class TooCostlyException extends IllegalArgumentException {
        TooCostlyException(String pattern) {
            super("the regular expression '" + pattern + "' needs more than " + BUDGET
                    + " steps on a value (nested repetition such as (a+)+ backtracks without end); simplify it");
        }
    }

    /** Whether the whole of {@code value} matches {@code pattern}. */
    public static boolean matches(Pattern pattern, CharSequence value) {
        return pattern.matcher(new Counted(value, pattern.pattern())).matches();
    }

    /** The value as the engine reads it: every character read counts against the budget. */
    private static final class Counted implements CharSequence {
        private final CharSequence value;
        private final String pattern;
        private long reads;

        Counted(CharSequence value, String pattern) {
            this.value = value;
            this.pattern = pattern;
        }

        @Override
        public char charAt(int index) {
            if (++reads > BUDGET) {
                throw new TooCostlyException(pattern);
            }
            return value.charAt(index);
        }

        @Override
        public int length() {
            return value.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return value.subSequence(start, end);
        }

        @Override
        public String toString() {
            return value.toString();
        }
    }
}
