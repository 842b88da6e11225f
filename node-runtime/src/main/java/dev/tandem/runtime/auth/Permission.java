package dev.tandem.runtime.auth;

import java.util.Locale;

/** What a role may do in a project; each level includes the ones before it. */
public enum Permission {
    READ, RUN, WRITE, ADMIN;

    public boolean includes(Permission other) {
        return compareTo(other) >= 0;
    }

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Permission parse(String word) {
        try {
            return valueOf(word.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("a permission is read, run, write or admin, not '" + word + "'");
        }
    }
}
