package dev.tandem.runtime.execution;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rundeck's data references in commands, scripts and args: {@code ${option.NAME}} and, in
 * scripts, {@code @option.NAME@}. A reference to an option without a value expands to nothing,
 * as in Rundeck. Options are also exported to steps as {@code RD_OPTION_NAME}.
 */
public final class Expansion {
    private static final Pattern DOLLAR = Pattern.compile("\\$\\{option\\.([A-Za-z0-9_.\\-]+)}");
    /** Both syntaxes in one pass, so an inserted value is never expanded again. */
    private static final Pattern DOLLAR_OR_AT = Pattern.compile("\\$\\{option\\.([A-Za-z0-9_.\\-]+)}|@option\\.([A-Za-z0-9_.\\-]+)@");

    private Expansion() {}

    public static String expand(String text, Map<String, String> options) {
        return replace(DOLLAR, text, options);
    }

    public static String expandScript(String script, Map<String, String> options) {
        return replace(DOLLAR_OR_AT, script, options);
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

    private static String replace(Pattern pattern, String text, Map<String, String> options) {
        Matcher m = pattern.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            m.appendReplacement(out, Matcher.quoteReplacement(options.getOrDefault(name, "")));
        }
        m.appendTail(out);
        return out.toString();
    }
}
