package dev.tandem.runtime.process;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a process started by Tandem (a step, a node-source script) may see of the runtime's own
 * environment: a small allow-list, never the database password or a token.
 */
public final class ProcessEnvironment {
    static final List<String> INHERITED = List.of("PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "SHELL", "TMPDIR");

    private ProcessEnvironment() {}

    /** Reduces the builder's environment to the allow-list, then adds {@code extra}. */
    public static ProcessBuilder restrict(ProcessBuilder builder, Map<String, String> extra) {
        Map<String, String> env = builder.environment();
        Map<String, String> kept = new LinkedHashMap<>();
        INHERITED.forEach(name -> {
            String value = env.get(name);
            if (value != null) {
                kept.put(name, value);
            }
        });
        env.clear();
        env.putAll(kept);
        env.putAll(extra);
        return builder;
    }
}
