package dev.tandem.runtime.execution;

import java.util.LinkedHashMap;
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
