package dev.tandem.runtime.execution;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Replaces every secret value in a text by a mask. Thread safe; secrets may be added as a run goes on. */
public final class SecretMasker {
    public static final String MASK = "*****";

    private volatile List<String> secrets = List.of();

    public synchronized void add(Iterable<String> values) {
        List<String> all = new ArrayList<>(secrets);
        for (String value : values) {
            if (value != null && !value.isEmpty() && !all.contains(value)) {
                all.add(value);
            }
        }
        all.sort(Comparator.comparingInt(String::length).reversed());
        secrets = List.copyOf(all);
    }

    public String mask(String text) {
        if (text == null) {
            return null;
        }
        String masked = text;
        for (String secret : secrets) {
            masked = masked.replace(secret, MASK);
        }
        return masked;
    }
}
