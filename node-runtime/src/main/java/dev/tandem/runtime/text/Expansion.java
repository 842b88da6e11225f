package dev.tandem.runtime.text;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rundeck's data references in commands, scripts and args: {@code ${option.NAME}} and
 * {@code ${node.ATTRIBUTE}} and, in scripts, {@code @option.NAME@} and {@code @node.ATTRIBUTE@}. A reference to an option without a value expands to nothing,
 * as in Rundeck. Options are also exported to steps as {@code RD_OPTION_NAME}.
 */
public final class Expansion {
    private static final Pattern DOLLAR = Pattern.compile("\\$\\{(option|node)\\.([A-Za-z0-9_.\\-]+)}");
    /** Both syntaxes in one pass, so an inserted value is never expanded again. */
    private static final Pattern DOLLAR_OR_AT = Pattern.compile(
            "\\$\\{(option|node)\\.([A-Za-z0-9_.\\-]+)}|@(option|node)\\.([A-Za-z0-9_.\\-]+)@");

    private Expansion() {}

    /** Expands option references; node references are left as written (no node here). */
    public static String expand(String text, Map<String, String> options) {
        return replace(DOLLAR, text, options, null);
    }

    /** Expands option and node references ({@code ${node.hostname}}, any attribute of the node). */
    public static String expand(String text, Map<String, String> options, Map<String, String> node) {
        return replace(DOLLAR, text, options, node);
    }

    /**
     * An {@code exec} line with its references expanded as Rundeck expands them (its ExecArgList
     * quoting): the line is cut into words as a shell would (blanks outside quotes), and each word
     * that holds a reference becomes one single-quoted word (its own quotes removed, references
     * replaced, then quoted), so a value is always data: {@code $(id)}, {@code ;}, backticks,
     * quotes and newlines arrive as typed. Words without a reference stay exactly as written, so
     * pipes, redirections and the shell's own variables still work. {@code echo "hello ${option.who}"}
     * with {@code who=$(id)} runs {@code echo 'hello $(id)'}.
     */
    public static String expandCommand(String line, Map<String, String> options, Map<String, String> node) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (Character.isWhitespace(c)) {
                out.append(c);
                i++;
                continue;
            }
            int end = wordEnd(line, i);
            String word = line.substring(i, end);
            out.append(DOLLAR.matcher(word).find() ? shellQuote(replace(DOLLAR, unquoted(word), options, node)) : word);
            i = end;
        }
        return out.toString();
    }

    /**
     * A path (a {@code scriptfile}) with its references expanded, each value confined to one file
     * name: a value that holds a {@code /}, is {@code .} or {@code ..}, or holds a NUL is refused
     * (it would leave the folder the path names). The message names the reference, never its value.
     */
    public static String expandPath(String path, Map<String, String> options, Map<String, String> node) {
        Matcher m = DOLLAR.matcher(path);
        while (m.find()) {
            String value = m.group(1).equals("option") ? options.getOrDefault(m.group(2), "") : node.getOrDefault(m.group(2), "");
            if (value.contains("/") || value.equals(".") || value.equals("..") || value.indexOf('\0') >= 0) {
                throw new IllegalArgumentException(m.group() + " in the path '" + path + "' expands to a value that is not a single file "
                        + "name (it holds '/', is '.' or '..'): a value may name a file, never leave the folder");
            }
        }
        return replace(DOLLAR, path, options, node);
    }

    /** A word for {@code /bin/sh}: single-quoted, so nothing in it is read by the shell. */
    public static String shellQuote(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }

    /** Where the shell word starting at {@code start} ends: the first blank outside quotes (or the end). */
    private static int wordEnd(String line, int start) {
        char quote = 0;
        int i = start;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"') {
                    i++;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '\\') {
                i++;
            } else if (Character.isWhitespace(c)) {
                return i;
            }
            i++;
        }
        return Math.min(i, line.length());
    }

    /** The word as the shell would pass it: quotes removed; an unclosed quote keeps the rest as written. */
    private static String unquoted(String word) {
        try {
            List<String> parts = Arguments.split(word);
            return parts.isEmpty() ? "" : parts.get(0);
        } catch (IllegalArgumentException unclosed) {
            return word;
        }
    }

    public static String expandScript(String script, Map<String, String> options) {
        return replace(DOLLAR_OR_AT, script, options, null);
    }

    public static String expandScript(String script, Map<String, String> options, Map<String, String> node) {
        return replace(DOLLAR_OR_AT, script, options, node);
    }

    public static Map<String, String> environment(Map<String, String> options) {
        Map<String, String> env = new LinkedHashMap<>();
        options.forEach((name, value) -> env.put(variable(name), value));
        return env;
    }

    /** The environment variable Rundeck exports an option as; the validator refuses two options sharing one. */
    public static String variable(String option) {
        return "RD_OPTION_" + option.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9_]", "_");
    }

    private static String replace(Pattern pattern, String text, Map<String, String> options, Map<String, String> node) {
        Matcher m = pattern.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            boolean dollar = m.group(1) != null;
            String context = dollar ? m.group(1) : m.group(3);
            String name = dollar ? m.group(2) : m.group(4);
            String value;
            if (context.equals("option")) {
                value = options.getOrDefault(name, "");
            } else if (node != null) {
                value = node.getOrDefault(name, "");
            } else {
                value = m.group();
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
