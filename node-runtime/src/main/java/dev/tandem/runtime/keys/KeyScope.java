package dev.tandem.runtime.keys;

import java.util.List;

/**
 * The one rule for which keys a project's jobs and nodes may read: those under
 * {@code keys/project/<project>/}, and those under the prefixes the runtime's
 * {@code keys.sharedPaths} lists (set by whoever runs the runtime, not through the API). A
 * project's writers choose option storage paths and node key paths; this keeps them to their own
 * project's keys, so they cannot print or send another project's secrets.
 */
public record KeyScope(List<String> sharedPrefixes) {

    public KeyScope {
        sharedPrefixes = sharedPrefixes.stream().map(p -> p.endsWith("/") ? p : p + "/").toList();
    }

    public boolean allows(String project, String path) {
        return path.startsWith(own(project)) || sharedPrefixes.stream().anyMatch(path::startsWith);
    }

    /** Why {@code path} is refused to {@code project}, naming the rule and the setting. */
    public String refusal(String project, String path) {
        return "the key " + path + " is outside " + own(project)
                + "; a project's jobs and nodes use its own keys, or those under the runtime's keys.sharedPaths";
    }

    private static String own(String project) {
        return "keys/project/" + project + "/";
    }
}
