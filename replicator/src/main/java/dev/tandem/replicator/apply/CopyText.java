package dev.tandem.replicator.apply;

/**
 * One value in PostgreSQL's COPY text format: {@code \N} for null; otherwise the value's text form
 * with backslash, tab, newline and carriage return escaped, since those delimit or escape there.
 */
final class CopyText {
    private CopyText() {}

    static void append(StringBuilder out, String value) {
        if (value == null) {
            out.append("\\N");
            return;
        }
        int start = 0;
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            String escape = switch (ch) {
                case '\\' -> "\\\\";
                case '\t' -> "\\t";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                default -> null;
            };
            if (escape != null) {
                out.append(value, start, i).append(escape);
                start = i + 1;
            }
        }
        out.append(value, start, value.length());
    }
}
