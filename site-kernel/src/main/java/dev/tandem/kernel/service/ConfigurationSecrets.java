package dev.tandem.kernel.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.text.StringSubstitutor;
import org.apache.commons.text.lookup.StringLookup;

/**
 * Fills {@code ${...}} in a configuration file, so secrets need not sit in the environment
 * (which any process of the same user reads in {@code /proc/<pid>/environ}):
 * <ul>
 *   <li>{@code ${credential:NAME}}: the file NAME in systemd's {@code $CREDENTIALS_DIRECTORY}
 *       ({@code LoadCredential=NAME:/etc/tandem/NAME}: readable by the service only, gone when it stops);</li>
 *   <li>{@code ${file:/path}}: the file's content;</li>
 *   <li>{@code ${VAR}}: the environment variable, as before.</li>
 * </ul>
 * One trailing newline is dropped from a file. {@code ${x:-default}} applies when the variable is
 * unset or the file is missing; defaults may themselves hold {@code ${...}}.
 */
public final class ConfigurationSecrets extends StringSubstitutor {

    public ConfigurationSecrets() {
        this(System.getenv());
    }

    ConfigurationSecrets(Map<String, String> environment) {
        super(lookup(environment));
        setEnableSubstitutionInVariables(true);
        setPreserveEscapes(false);
    }

    private static StringLookup lookup(Map<String, String> environment) {
        return key -> {
            if (key.startsWith("credential:")) {
                String dir = environment.get("CREDENTIALS_DIRECTORY");
                return dir == null ? null : read(Path.of(dir, key.substring("credential:".length())));
            }
            if (key.startsWith("file:")) {
                return read(Path.of(key.substring("file:".length())));
            }
            return environment.get(key);
        };
    }

    private static String read(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            return text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the configuration secret " + file + ": " + e.getMessage(), e);
        }
    }
}
